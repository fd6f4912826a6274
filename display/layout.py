"""Caption history → positioned lines. Pure: no drawing, no clock, no pygame.

``CaptionBoard`` keeps the recent utterances (``captioner.core.lines``: the one reducer of
events into lines), grouped into paragraphs (a long pause between utterances starts a new
one). ``BlockLayout`` breaks one channel of it ("ja" for the captions, or a translation
language) into rows of styled spans with ``linebreak.line_spans``:

- committed text is placed once: a line is frozen as soon as the text after its break is
  committed, and the partial text after it can never push a committed character that was
  already shown onto another line (``protect``), so committed text never moves sideways or
  reflows; the partial tail is replaced in place;
- while an utterance is still partial, the paragraph never loses rows (a shorter partial
  does not make the text above jump down and up again); the final releases them;
- newest text is at the bottom: ``rows(board, n)`` returns the last ``n`` rows.

A browser viewer feeds the same events to the same classes with ``cell_width`` as the
measure and shows exactly the same lines.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from captioner.core.events import CaptionEvent
from captioner.core.lines import CaptionLines, Line
from display.linebreak import Measure, cell_width, is_word, line_spans

JA = "ja"
NO_SPACE_LANGUAGES = {"ja", "zh", "zh-cn", "zh-tw", "zh-hans", "zh-hant", "yue", "th", "lo", "my", "km"}
Style = str  # "current" (newest utterance), "older", "partial" (may still change)
Ruby = Callable[[str, tuple[tuple[str, str], ...]], Sequence[tuple[int, int, str]]]


@dataclass
class Paragraph:
    serial: int
    utterances: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class ParagraphText:
    """One channel of a paragraph: its text, committed prefix and where the newest utterance starts."""

    text: str
    committed: int
    newest_from: int
    complete: bool  # every utterance in it is final
    readings: tuple[tuple[str, str], ...] = ()
    marks: tuple[tuple[int, int, Style], ...] = ()  # (start, end, "resident" | "corrected")
    facts: tuple[tuple[int, int], ...] = ()  # (start, end) of the facts of final captions, drawn framed

    def style(self, i: int) -> Style:
        if i >= self.committed:
            return "partial"
        for start, end, style in self.marks:
            if start <= i < end:
                return style
        return "older" if i < self.newest_from else "current"


class CaptionBoard:
    """The recent caption history, updated by caption events (call from one thread)."""

    def __init__(self, paragraph_pause_s: float = 3.0, *, keep_paragraphs: int = 6, max_paragraph_utterances: int = 20) -> None:
        self.paragraph_pause_s = paragraph_pause_s
        self.keep_paragraphs = keep_paragraphs
        self.max_paragraph_utterances = max_paragraph_utterances
        self.lines = CaptionLines()  # the lines of the paragraphs below
        self.paragraphs: list[Paragraph] = []
        self._serial = 0
        self.facts: Callable[[str], Sequence[tuple[int, int]]] | None = None  # a final's fact spans (display.highlights)

    @property
    def languages(self) -> list[str]:
        """Translation languages seen, in order."""
        return self.lines.languages

    def clear(self) -> None:
        self.paragraphs.clear()
        self.lines.clear()

    @property
    def empty(self) -> bool:
        return not any(u.text for p in self.paragraphs for u in p.utterances)

    def apply(self, event: CaptionEvent) -> bool:
        """Take one event; True when something visible may have changed."""
        line = self.lines.get(event.utterance_id)
        before = line.shown if line is not None else None
        line = self.lines.apply(event)
        if line is None:
            return False
        if before is None:
            self._place(line)
        if line.gone:
            self._remove(line)
            return True
        return before != line.shown

    def paragraph_text(self, paragraph: Paragraph, channel: str = JA) -> ParagraphText:
        """The text of one channel of ``paragraph`` (captions, or one translation language)."""
        newest = self._newest(channel)
        parts: list[str] = []
        length = committed = 0
        open_ = False  # an earlier piece is still partial: nothing after it is committed
        newest_from = None
        readings: list[tuple[str, str]] = []
        marks: list[tuple[int, int, Style]] = []
        facts: list[tuple[int, int]] = []
        for utterance in paragraph.utterances:
            piece, piece_committed, final = self._piece(utterance, channel)
            if not piece:
                if not final and not open_:
                    committed, open_ = length, True
                continue
            separator = _separator(parts[-1], piece, channel) if parts else ""
            if utterance is newest:
                newest_from = length
            if not open_:
                fixed = piece if final else piece_committed
                committed = length + (len(separator) + len(fixed) if fixed else 0)
                open_ = not final
            parts.append(separator + piece)
            start = length + len(separator)
            if channel == JA and final and self.facts is not None:
                facts.extend((start + s, start + e) for s, e in self.facts(piece))
            if utterance.source != "clerk" or utterance.corrected:
                marks.append((start, start + len(piece), "resident" if utterance.source != "clerk" else "corrected"))
            length += len(separator) + len(piece)
            readings.extend(utterance.readings.items())
        text = "".join(parts)
        return ParagraphText(
            text,
            min(committed, len(text)),
            len(text) if newest_from is None else newest_from,
            not open_,
            tuple(readings),
            tuple(marks),
            tuple(facts),
        )

    # -- internals ---------------------------------------------------------------------

    def _piece(self, utterance: Line, channel: str) -> tuple[str, str, bool]:
        if channel == JA:
            return utterance.text, utterance.committed, utterance.final
        piece = utterance.translations.get(channel, "")
        final = channel in utterance.translated_final or (utterance.final and self._skipped(utterance, channel))
        return ("" if final and channel not in utterance.translated_final else piece), (piece if final else ""), final

    def _skipped(self, utterance: Line, channel: str) -> bool:
        """A final utterance without a translation, followed by one with: it never gets one."""
        seen = False
        for paragraph in self.paragraphs:
            for other in paragraph.utterances:
                if other is utterance:
                    seen = True
                elif seen and channel in other.translated_final:
                    return True
        return False

    def _newest(self, channel: str) -> Line | None:
        for paragraph in reversed(self.paragraphs):
            for utterance in reversed(paragraph.utterances):
                if self._piece(utterance, channel)[0]:
                    return utterance
        return None

    def _place(self, utterance: Line) -> None:
        last = self.paragraphs[-1] if self.paragraphs else None
        previous = last.utterances[-1] if last and last.utterances else None
        if (
            last is None
            or previous is None
            or utterance.start - previous.end >= self.paragraph_pause_s
            or utterance.source != previous.source or utterance.source != "clerk"  # each reply is a paragraph of its own
            or len(last.utterances) >= self.max_paragraph_utterances
        ):
            self._serial += 1
            last = Paragraph(self._serial)
            self.paragraphs.append(last)
            for dropped in self.paragraphs[: -self.keep_paragraphs]:
                for line in dropped.utterances:
                    self.lines.forget(line.id)
            del self.paragraphs[: -self.keep_paragraphs]
        last.utterances.append(utterance)

    def _remove(self, utterance: Line) -> None:
        self.lines.forget(utterance.id)
        for paragraph in self.paragraphs:
            if utterance in paragraph.utterances:
                paragraph.utterances.remove(utterance)
        self.paragraphs = [p for p in self.paragraphs if p.utterances]


def _separator(before: str, after: str, channel: str) -> str:
    if not before or not after or after[0] == " " or before[-1] == " ":
        return ""
    if channel.lower() not in NO_SPACE_LANGUAGES:
        return " "
    return " " if is_word(before[-1]) and is_word(after[0]) else ""


@dataclass(frozen=True)
class Span:
    """A run of one style on a row; ``x`` and ``width`` in measure units from the row start."""

    text: str
    x: float
    width: float
    style: Style
    start: int = 0  # index of its first character in the paragraph's text


@dataclass(frozen=True)
class RubySpan:
    """A furigana reading over the base characters at ``x`` .. ``x + width``."""

    reading: str
    x: float
    width: float
    style: Style


@dataclass(frozen=True)
class Row:
    spans: tuple[Span, ...] = ()
    ruby: tuple[RubySpan, ...] = ()
    paragraph: int = 0
    first: bool = False  # the first row of its paragraph
    frames: tuple[tuple[float, float, Style], ...] = ()  # (x, width, style) of the facts on this row, drawn framed

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    @property
    def width(self) -> float:
        return max((s.x + s.width for s in self.spans), default=0.0)


class ParagraphLayout:
    """The lines of one paragraph, kept stable while its text grows (see the module doc)."""

    def __init__(self, width: float, measure: Measure, hang: float | None = None) -> None:
        self.width = width
        self.measure = measure
        self.hang = hang
        self._frozen: list[tuple[int, int]] = []
        self._frozen_text = ""  # text[:self._next] when the lines were frozen
        self._next = 0  # where the first unfrozen line starts
        self._protect = 0  # characters shown as committed so far
        self._high = 0  # rows this paragraph has used while partial

    def update(self, text: str, committed: int, *, complete: bool, no_break: Collection[int] = ()) -> tuple[list[tuple[int, int]], int]:
        """(line spans, rows to reserve) for the paragraph's current text."""
        if text[: self._next] != self._frozen_text or committed < min(self._protect, len(text)):
            self._frozen, self._frozen_text, self._next, self._protect, self._high = [], "", 0, 0, 0
        start = self._next
        shifted = {i - start for i in no_break if i > start}
        spans = [
            (a + start, b + start)
            for a, b in line_spans(
                text[start:], self.width, self.measure, hang=self.hang,
                protect=max(0, self._protect - start), no_break=shifted,
            )
        ]
        while len(spans) > 1 and spans[1][0] < committed:
            self._frozen.append(spans.pop(0))
            self._next = spans[0][0]
        self._frozen_text = text[: self._next]
        self._protect = committed
        lines = self._frozen + spans
        self._high = len(lines) if complete else max(self._high, len(lines))
        return lines, self._high


class BlockLayout:
    """Rows of one channel of the board, for one line width and measure (state: the frozen lines)."""

    def __init__(
        self,
        width: float,
        measure: Measure = cell_width,
        *,
        channel: str = JA,
        hang: float | None = None,
        ruby: Ruby | None = None,
    ) -> None:
        self.width = width
        self.measure = measure
        self.channel = channel
        self.hang = hang
        self.ruby = ruby
        self._layouts: dict[int, ParagraphLayout] = {}
        self._widths: dict[str, float] = {}

    def rows(self, board: CaptionBoard, max_rows: int) -> list[Row]:
        """The last ``max_rows`` rows (oldest first); empty rows are space kept for a partial."""
        rows: list[Row] = []
        alive = {p.serial for p in board.paragraphs}
        for serial in list(self._layouts):
            if serial not in alive:
                del self._layouts[serial]
        for paragraph in reversed(board.paragraphs):
            if len(rows) >= max_rows:
                break
            content = board.paragraph_text(paragraph, self.channel)
            if not content.text:
                continue
            layout = self._layouts.get(paragraph.serial)
            if layout is None:
                layout = self._layouts[paragraph.serial] = ParagraphLayout(self.width, self.measure, self.hang)
            bases = list(self.ruby(content.text, content.readings)) if self.ruby else []
            no_break = {i for s, e, _ in bases for i in range(s + 1, e)}
            lines, reserved = layout.update(content.text, content.committed, complete=content.complete, no_break=no_break)
            made = [
                self._row(content, a, b, bases, paragraph.serial, first=(k == 0))
                for k, (a, b) in enumerate(lines)
            ]
            made += [Row(paragraph=paragraph.serial)] * (reserved - len(made))
            rows[:0] = made
        return rows[-max_rows:] if max_rows > 0 else []

    def char_width(self, char: str) -> float:
        w = self._widths.get(char)
        if w is None:
            w = self._widths[char] = float(self.measure(char))
        return w

    def _row(self, content: ParagraphText, a: int, b: int, bases, serial: int, first: bool) -> Row:
        text = content.text
        while b > a and text[b - 1] == " ":
            b -= 1
        xs = [0.0]
        for i in range(a, b):
            xs.append(xs[-1] + self.char_width(text[i]))
        spans: list[Span] = []
        i = a
        while i < b:
            style = content.style(i)
            j = i + 1
            while j < b and content.style(j) == style:
                j += 1
            spans.append(Span(text[i:j], xs[i - a], xs[j - a] - xs[i - a], style, i))
            i = j
        ruby = tuple(
            RubySpan(reading, xs[s - a], xs[e - a] - xs[s - a], content.style(s))
            for s, e, reading in bases
            if a <= s and e <= b
        )
        frames = tuple(
            (xs[max(s, a) - a], xs[min(e, b) - a] - xs[max(s, a) - a], content.style(max(s, a)))
            for s, e in content.facts
            if s < b and e > a
        )
        return Row(tuple(spans), ruby, serial, first, frames)
