// Japanese line breaking with kinsoku rules: a line-for-line port of display/linebreak.py
// (line_spans, can_break, _choose_break) and of the stable paragraph layout in
// display/layout.py (ParagraphLayout). Character classes come from /rules.json, generated
// from the Python module, so both break every text at the same places (tests/test_web_linebreak.py).
"use strict";

const LineBreak = (() => {
  let R = null;
  const sets = {};

  function inRanges(list, code) {
    let lo = 0, hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (code < list[mid][0]) hi = mid - 1;
      else if (code > list[mid][1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  function setRules(rules) {
    R = rules;
    for (const key of ["no_start", "no_end", "hanging", "inseparable", "number_joiners"]) {
      sets[key] = new Set(Array.from(rules[key]));
    }
  }

  const code = (ch) => ch.codePointAt(0);
  const isCjk = (ch) => inRanges(R.cjk, code(ch));
  const isWord = (ch) => inRanges(R.word, code(ch));
  const isSpace = (ch) => inRanges(R.space, code(ch));
  const isDigit = (ch) => inRanges(R.digit, code(ch));

  function cellWidth(ch) {
    const c = code(ch);
    if (inRanges(R.zero, c)) return 0;
    return inRanges(R.wide, c) ? 1 : 0.5;
  }

  // text: an array of characters (code points), as Python indexes strings
  function canBreak(text, i, noBreak) {
    if (i <= 0 || i >= text.length) return true;
    const before = text[i - 1], after = text[i];
    if ((noBreak && noBreak.has(i)) || sets.no_start.has(after) || sets.no_end.has(before)) return false;
    if (isSpace(before) || isSpace(after)) {  // spaces at a break vanish: look at what is shown
      let j = i;
      while (j < text.length && isSpace(text[j])) j++;
      let k = i - 1;
      while (k >= 0 && isSpace(text[k])) k--;
      return !(j < text.length && sets.no_start.has(text[j])) && !(k >= 0 && sets.no_end.has(text[k]));
    }
    if (isWord(before) && isWord(after)) return false;
    if (before === after && sets.inseparable.has(before)) return false;
    if (sets.number_joiners.has(before) && isDigit(after) && i >= 2 && isDigit(text[i - 2])) return false;
    return true;
  }

  function skipSpaces(text, i) {
    while (i < text.length && text[i] === " ") i++;
    return i;
  }

  function chooseBreak(text, widths, start, end, total, limit, floor, noBreak) {
    const n = text.length;
    const ok = (i) => i >= floor && canBreak(text, i, noBreak);
    if (ok(end)) return end;
    if (sets.hanging.has(text[end]) && total + widths[end] <= limit + 1e-9 && end + 1 >= floor) {
      if (end + 1 >= n || canBreak(text, end + 1, noBreak)) return end + 1;
    }
    for (let i = end - 1; i >= floor; i--) if (ok(i)) return i;
    let extra = total;
    for (let i = end; i < Math.min(n, end + 2); i++) {
      extra += widths[i];
      if (extra > limit + 1e-9) break;
      if (i + 1 >= floor && (i + 1 >= n || canBreak(text, i + 1, noBreak))) return i + 1;
    }
    return Math.max(end, Math.min(floor, n));
  }

  // [[start, end], ...] in code-point indexes; width and hang in cells
  function lineSpans(text, width, opts) {
    opts = opts || {};
    const chars = Array.isArray(text) ? text : Array.from(text);
    const n = chars.length;
    const widths = chars.map(cellWidth);
    const hang = opts.hang == null ? cellWidth(R.full_width) : opts.hang;
    const protect = opts.protect || 0;
    const noBreak = opts.noBreak || null;
    const spans = [];
    let start = skipSpaces(chars, 0);
    while (start < n) {
      let total = 0, end = start;
      while (end < n && total + widths[end] <= width + 1e-9) { total += widths[end]; end++; }
      if (end === start) { total = widths[start]; end = start + 1; }
      if (end >= n) { spans.push([start, n]); break; }
      let floor = start + 1;
      let fixed = protect;
      while (fixed > start && chars[fixed - 1] === " ") fixed--;
      if (start < fixed && fixed <= end + 2) floor = Math.max(floor, fixed);
      const brk = chooseBreak(chars, widths, start, end, total, width + hang, floor, noBreak);
      spans.push([start, brk]);
      start = skipSpaces(chars, brk);
    }
    return spans;
  }

  function breakLines(text, width, opts) {
    const chars = Array.from(text);
    return lineSpans(chars, width, opts).map(([a, b]) => chars.slice(a, b).join("").replace(/ +$/, ""));
  }

  // display/layout.py ParagraphLayout: committed lines are frozen and never reflow
  class ParagraphLayout {
    constructor(width, hang) {
      this.width = width; this.hang = hang;
      this.frozen = []; this.frozenText = ""; this.next = 0; this.protect = 0; this.high = 0;
    }
    update(chars, committed, complete, noBreak) {
      if (chars.slice(0, this.next).join("") !== this.frozenText || committed < Math.min(this.protect, chars.length)) {
        this.frozen = []; this.frozenText = ""; this.next = 0; this.protect = 0; this.high = 0;
      }
      const start = this.next;
      const shifted = new Set();
      if (noBreak) for (const i of noBreak) if (i > start) shifted.add(i - start);
      const spans = lineSpans(chars.slice(start), this.width, {
        hang: this.hang, protect: Math.max(0, this.protect - start), noBreak: shifted,
      }).map(([a, b]) => [a + start, b + start]);
      while (spans.length > 1 && spans[1][0] < committed) {
        this.frozen.push(spans.shift());
        this.next = spans[0][0];
      }
      this.frozenText = chars.slice(0, this.next).join("");
      this.protect = committed;
      const lines = this.frozen.concat(spans);
      this.high = complete ? lines.length : Math.max(this.high, lines.length);
      return [lines, this.high];
    }
  }

  return { setRules, lineSpans, breakLines, cellWidth, isWord, ParagraphLayout, ready: () => R !== null };
})();
