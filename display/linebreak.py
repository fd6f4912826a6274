"""Japanese line breaking with kinsoku rules: a pure function of the text and a width.

``break_lines(text, width)`` measures in *cells* by default (a full-width character is 1, a
half-width one 0.5, which is exactly BIZ UDGothic's advance), so a browser viewer with the
same font breaks lines exactly as the caption window does. The window passes its font's
measure in pixels instead. Rules (JIS X 4051, simplified):

- no line starts with closing brackets, 、。, small kana, ー, iteration marks, ?!, ％ ... and no
  line ends with opening brackets or prefix signs (「（¥$ ...);
- 、。 may hang past the width by one character (ぶら下げ); otherwise a character is pushed
  to the next line (追い出し), or, when that is impossible, pulled into the hang space
  (追い込み);
- Latin words, numbers (1,000 / 3.5 / 12:30) and Hangul words are not split unless longer
  than a line; spaces at a break are dropped;
- ``protect`` keeps the first characters where they are: a break never pushes a character
  that is already shown as committed onto the next line (see ``display.layout``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection

Measure = Callable[[str], float]

CLOSING = "）)］]｝}〕〉》」』】〙〗〟’”｠»›"
NO_START = (
    CLOSING
    + "‐゠–〜～"  # hyphens, wave dash
    + "？！‼⁇⁈⁉?!"
    + "・：；:;"
    + "。．.、，,｡､"
    + "—…‥〳〴〵"
    + "ヽヾゝゞ々〻"
    + "ーｰ"
    + "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿｧｨｩｪｫｯｬｭｮ"
    + "％%‰℃°′″¢｣"
)
NO_END = "（(［[｛{〔〈《「『【〘〖〝‘“｟«‹｢" + "￥¥＄$£€＃#№"
HANGING = "、。，．,.､｡"  # may hang into the margin at the end of a line
INSEPARABLE = "—…‥"  # ……, ——, ‥‥ stay together
NUMBER_JOINERS = ",.:，．："  # 1,000 / 3.5 / 12:30 stay together
FULL_WIDTH = "\u3000"


def is_cjk(char: str) -> bool:
    """Ideographs and kana: a line may break before or after any of them."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF
        or 0x31F0 <= code <= 0x31FF
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF66 <= code <= 0xFF9F
        or 0x20000 <= code <= 0x3FFFF
        or 0x3005 <= code <= 0x3007
        or 0x3021 <= code <= 0x3029
    )


def is_word(char: str) -> bool:
    """Letters and digits that form unbreakable words (Latin, digits, Hangul, ...)."""
    return char.isalnum() and not is_cjk(char)


def cell_width(text: str) -> float:
    """Width in full-width cells: wide/full-width characters 1, everything else 0.5."""
    total = 0.0
    for char in text:
        if unicodedata.combining(char) or char in "\u200b\u200c\u200d\ufe0f\ufe0e":
            continue
        total += 1.0 if unicodedata.east_asian_width(char) in "WFA" and ord(char) > 0xFF else 0.5
    return total


def can_break(text: str, i: int, no_break: Collection[int] = ()) -> bool:
    """May a line end before ``text[i]``? (0 < i < len(text))"""
    if i <= 0 or i >= len(text):
        return True
    before, after = text[i - 1], text[i]
    if i in no_break or after in NO_START or before in NO_END:
        return False
    if before.isspace() or after.isspace():  # spaces at a break vanish: look at what is shown
        j = i
        while j < len(text) and text[j].isspace():
            j += 1
        k = i - 1
        while k >= 0 and text[k].isspace():
            k -= 1
        return not (j < len(text) and text[j] in NO_START) and not (k >= 0 and text[k] in NO_END)
    if is_word(before) and is_word(after):
        return False
    if before == after and before in INSEPARABLE:
        return False
    if before in NUMBER_JOINERS and after.isdigit() and i >= 2 and text[i - 2].isdigit():
        return False
    return True


def line_spans(
    text: str,
    width: float,
    measure: Measure = cell_width,
    *,
    hang: float | None = None,
    protect: int = 0,
    no_break: Collection[int] = (),
) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text``; spaces at the start of a line are skipped.

    ``width`` is the nominal line width in ``measure`` units (additive per character);
    ``hang`` how far hanging punctuation may go past it (default: one full-width
    character). ``protect``: the first characters whose line is fixed; a line holding some
    of them ends at ``protect`` or later. ``no_break``: indices a line may not start at
    (e.g. inside a word with furigana).
    """
    n = len(text)
    widths = _widths(text, measure)
    if hang is None:
        hang = measure(FULL_WIDTH)
    spans: list[tuple[int, int]] = []
    start = _skip_spaces(text, 0)
    while start < n:
        total, end = 0.0, start
        while end < n and total + widths[end] <= width + 1e-9:
            total += widths[end]
            end += 1
        if end == start:  # one character wider than the line: it gets the line to itself
            total, end = widths[start], start + 1
        if end >= n:
            spans.append((start, n))
            break
        floor = start + 1
        fixed = protect
        while fixed > start and text[fixed - 1] == " ":
            fixed -= 1  # spaces at a break are not shown: they need no protection
        if start < fixed <= end + 2:  # hanging and 追い込み place at most two past ``end``
            floor = max(floor, fixed)
        brk = _choose_break(text, widths, start, end, total, width + hang, floor, no_break)
        spans.append((start, brk))
        start = _skip_spaces(text, brk)
    return spans


def break_lines(
    text: str,
    width: float,
    measure: Measure = cell_width,
    *,
    hang: float | None = None,
    protect: int = 0,
    no_break: Collection[int] = (),
) -> list[str]:
    """Split ``text`` into lines no wider than ``width`` (+ hanging punctuation), with kinsoku.

    >>> break_lines("市役所の窓口で住民票を発行します。", 8)
    ['市役所の窓口で住', '民票を発行します。']
    """
    spans = line_spans(text, width, measure, hang=hang, protect=protect, no_break=no_break)
    return [text[a:b].rstrip(" ") for a, b in spans]


def _choose_break(
    text: str, widths: list[float], start: int, end: int, total: float, limit: float, floor: int,
    no_break: Collection[int],
) -> int:
    """Where the line [start, end) that overflows at ``end`` should end (>= floor)."""
    n = len(text)

    def ok(i: int) -> bool:
        return i >= floor and can_break(text, i, no_break)

    if ok(end):
        return end
    # ぶら下げ: 、。 hang into the margin
    if text[end] in HANGING and total + widths[end] <= limit + 1e-9 and end + 1 >= floor:
        if end + 1 >= n or can_break(text, end + 1, no_break):
            return end + 1
    # 追い出し: end the line earlier
    for i in range(end - 1, floor - 1, -1):
        if ok(i):
            return i
    # 追い込み: pull up to two characters into the hang space
    extra = total
    for i in range(end, min(n, end + 2)):
        extra += widths[i]
        if extra > limit + 1e-9:
            break
        if i + 1 >= floor and (i + 1 >= n or can_break(text, i + 1, no_break)):
            return i + 1
    return max(end, min(floor, n))  # nothing allowed: break anyway (a word longer than a line)


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _widths(text: str, measure: Measure) -> list[float]:
    cache: dict[str, float] = {}
    out = []
    for char in text:
        w = cache.get(char)
        if w is None:
            w = cache[char] = float(measure(char))
        out.append(w)
    return out
