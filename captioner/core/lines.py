"""Caption events → the lines displays show: the one reducer behind every caption board.

The caption window (``display.layout.CaptionBoard``) and the browser hub (``web.hub``) both
keep their utterances as :class:`Line` objects updated by :meth:`CaptionLines.apply`, so the
rules live here once:

- a partial replaces the text until the final comes; a partial arriving after its final
  (late, from another thread) leaves the final text alone;
- a final commits its whole text;
- a correction (``update="correction"``) replaces a final's text and drops its translations
  (the translation stage sends the new ones);
- a translation adds ``{language: text}``; one that came with a final is final for that
  language; a clerk's translation opens a language channel (:attr:`CaptionLines.languages`),
  a resident's own words do not.

The tablets' ``web/static/viewer.js`` applies the hub's line messages with the same rules;
``tests/test_web_board.py`` feeds one recorded event sequence to both (viewer.js in Chromium).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from captioner.core.events import CLERK, UPDATE_CORRECTION, CaptionEvent


def clean_text(text: str) -> str:
    """Control characters (newlines, tabs) become spaces."""
    return "".join(" " if (c < " " or c == "\x7f") else c for c in text)


def event_texts(event: CaptionEvent) -> tuple[str, str]:
    """(text, committed) to show, trimmed, with committed always a prefix of text."""
    text = clean_text(event.display_text)
    committed = clean_text(event.display_committed)
    if not text.startswith(committed):  # a stage broke the contract: trust the common part
        i = 0
        while i < min(len(text), len(committed)) and text[i] == committed[i]:
            i += 1
        committed = text[:i]
    lead = len(text) - len(text.lstrip())
    text = text[lead:].rstrip()
    committed = committed[lead:] if len(committed) > lead else ""
    return text, committed[: len(text)]


@dataclass
class Line:
    """What a display knows about one utterance."""

    id: int
    start: float
    end: float
    text: str = ""
    committed: str = ""
    final: bool = False
    translations: dict[str, str] = field(default_factory=dict)
    translated_final: list[str] = field(default_factory=list)  # languages whose translation is final
    readings: dict[str, str] = field(default_factory=dict)  # surface → kana, from the dictionary stage
    source: str = CLERK  # "resident": a reply or button press from the tablet (its own colour)
    language: str = "ja"
    corrected: bool = False  # the clerk replaced the text (its own colour)
    extra: dict[str, str] = field(default_factory=dict)  # button key, translation note (the clerk's page)

    @property
    def shown(self) -> tuple:
        """What a reader sees of it (compare before and after an event)."""
        return self.text, self.committed, self.final, dict(self.translations), self.corrected

    @property
    def gone(self) -> bool:
        """A final with nothing to show (the recognizer heard nothing after all)."""
        return self.final and not self.text and not self.translations


class CaptionLines:
    """The recent lines by utterance id, oldest first (``keep``: how many; None: all)."""

    def __init__(self, keep: int | None = None) -> None:
        self.keep = keep
        self.languages: list[str] = []  # translation channels seen, in order
        self._lines: OrderedDict[int, Line] = OrderedDict()

    def __iter__(self) -> Iterator[Line]:
        return iter(self._lines.values())

    def get(self, utterance_id: int) -> Line | None:
        return self._lines.get(utterance_id)

    def forget(self, utterance_id: int) -> None:
        self._lines.pop(utterance_id, None)

    def clear(self) -> None:
        self._lines.clear()

    def apply(self, event: CaptionEvent) -> Line | None:
        """Take one event; its line (None when the event shows nothing of a line not seen yet)."""
        text, committed = event_texts(event)
        line = self._lines.get(event.utterance_id)
        if line is None:
            if not text and not event.translations:
                return None
            line = self._lines[event.utterance_id] = Line(event.utterance_id, event.audio_start, event.audio_end)
            while self.keep is not None and len(self._lines) > self.keep:
                self._lines.popitem(last=False)
        line.end = max(line.end, event.audio_end)
        line.source, line.language = event.source, event.language
        if event.readings:
            line.readings = {str(k): str(v) for k, v in event.readings.items() if k and v}
        for key, value in (("btn", event.details.get("button")), ("note", event.details.get("note"))):
            if isinstance(value, str) and value:
                line.extra[key] = value
        if event.update == UPDATE_CORRECTION:
            line.corrected = True
            line.translations, line.translated_final = {}, []  # the new ones follow
        if not line.final or event.is_final:
            line.text, line.committed = text, committed
        if event.is_final:
            line.final = True
            line.committed = line.text
        for language, translated in (event.translations or {}).items():
            if not isinstance(language, str) or not isinstance(translated, str):
                continue
            line.translations[language] = clean_text(translated).strip()
            if event.is_final and language not in line.translated_final:
                line.translated_final.append(language)
            if language not in self.languages and line.source == CLERK:  # a reply's own words add no channel
                self.languages.append(language)
        return line
