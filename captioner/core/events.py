"""The one record that flows through every stage: a caption event."""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["partial", "final"]
UPDATE_TRANSLATION = "translation"  # the same final again, with ``translations`` filled
UPDATE_CORRECTION = "correction"  # a final replaced by hand (the clerk's correction)
CLERK = "clerk"  # the default source: the counter's microphone
RESIDENT = "resident"  # a reply or button press from the tablet


@dataclass(frozen=True)
class CaptionEvent:
    """A partial or final caption for one utterance.

    Times are seconds. ``audio_start``/``audio_end`` are on the stream's clock (0 = first
    sample); ``emitted_at`` is wall-clock time since the stream started. ``committed`` is the
    prefix of ``text`` that will never change; for a final it is the whole text.
    Later stages add corrected text (the dictionary: ``corrected_text`` and its stable prefix
    ``corrected_committed``) and translations with :func:`dataclasses.replace`. Displays show
    ``display_text``, of which ``display_committed`` never changes once shown.

    ``source`` says who spoke (``clerk`` for the counter's microphone) and ``language`` in
    which language ``text`` is. ``utterance_id`` is unique within a session, across sources
    and restarts of the audio input.

    ``update`` is None for an event's first emission. An event sent again to replace an
    earlier one with the same ``(utterance_id, kind)`` names why: ``"translation"`` (the
    translation stage adds ``translations`` = {language: text} to a final it already
    forwarded) or ``"correction"`` (a final corrected by hand). ``readings`` maps surfaces in
    the display text to their kana readings (for furigana), when a stage knows them.
    """

    kind: EventKind
    utterance_id: int
    text: str
    audio_start: float
    audio_end: float
    emitted_at: float
    committed: str = ""
    corrected_text: str | None = None
    corrected_committed: str | None = None
    translations: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    source: str = CLERK  # "resident": a reply or button press from the tablet
    language: str = "ja"  # the language of ``text``'s original (a resident types in the tablet's language)
    update: str | None = None
    readings: dict[str, str] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return self.kind == "final"

    @property
    def is_update(self) -> bool:
        """True for an event that replaces one already sent (a translation or a correction)."""
        return self.update is not None

    @property
    def display_text(self) -> str:
        """The text to show: the corrected text when a later stage produced one."""
        return self.corrected_text if self.corrected_text is not None else self.text

    @property
    def display_committed(self) -> str:
        """The committed prefix of :attr:`display_text` (never changes once shown)."""
        return self.corrected_committed if self.corrected_text is not None and self.corrected_committed is not None else self.committed

    @property
    def tentative(self) -> str:
        """The part of the display text after its committed prefix, which may still change."""
        return self.display_text[len(self.display_committed):]

    def to_json(self) -> str:
        """One line of JSON (used by ``--jsonl``)."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)


class UtteranceIds:
    """A session's utterance ids: the pipeline's utterances and those made by hand (the
    resident's replies, the clerk's quick phrases) draw from one counter, so no two share an id.

    An iterator (``next(ids)``), safe across threads. :meth:`seen` moves the counter past an id
    that came from elsewhere (events fed in by a test or another program), so a later id never
    repeats it.
    """

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._lock = threading.Lock()

    def __iter__(self) -> UtteranceIds:
        return self

    def __next__(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value

    def seen(self, utterance_id: int) -> None:
        with self._lock:
            self._next = max(self._next, utterance_id + 1)
