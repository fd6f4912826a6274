"""Caption events → messages for browser viewers: bounded history, sequence numbers, fan-out.

The pipeline calls :meth:`CaptionHub.sink` from its worker threads; it only schedules the
event on the server's event loop (``call_soon_threadsafe``), so a slow or crowded viewer can
never hold up speech recognition. On the loop, each event updates the state of its utterance
and one JSON message with that utterance's *whole* state and a new sequence number is built
once and queued to every viewer. Because a message replaces everything the viewer knew about
that utterance, a viewer that reconnects with ``since=SEQ`` only needs the newest message of
each utterance changed after SEQ: nothing is shown twice and nothing is missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from captioner.core.events import UPDATE_CORRECTION, CaptionEvent
from display.layout import clean_text as clean
from display.layout import event_texts

log = logging.getLogger(__name__)

QUEUE_LIMIT = 256  # messages a viewer may lag behind before it is disconnected (it reconnects)
Ruby = Callable[[str, dict[str, str]], list[tuple[int, int, str]]]


@dataclass
class UtteranceState:
    """What viewers know about one utterance (as the caption window's board keeps it)."""

    id: int
    start: float
    end: float
    text: str = ""
    committed: str = ""
    final: bool = False
    translations: dict[str, str] = field(default_factory=dict)
    translated_final: list[str] = field(default_factory=list)
    ruby: list[tuple[int, int, str]] = field(default_factory=list)
    readings: dict[str, str] = field(default_factory=dict)
    seq: int = 0
    source: str = "clerk"  # "resident": a reply or button press from a tablet
    language: str = "ja"
    corrected: bool = False  # the clerk replaced the text
    extra: dict[str, str] = field(default_factory=dict)  # button key, translation note (web.conversation)

    def message(self) -> dict[str, Any]:
        return {
            "t": "cap",
            "seq": self.seq,
            "u": {
                "id": self.id,
                "start": round(self.start, 3),
                "end": round(self.end, 3),
                "text": self.text,
                "committed": self.committed,
                "final": self.final,
                "tr": self.translations,
                "trf": self.translated_final,
                "ruby": self.ruby,
                "src": self.source,
                "lang": self.language,
                "corr": self.corrected,
                **self.extra,
            },
        }


class CaptionHub:
    """The recent captions and the connected viewers (state lives on one event loop)."""

    def __init__(self, history: int = 10, ruby: Ruby | None = None) -> None:
        self.history = history
        self.ruby = ruby
        self.epoch = secrets.token_hex(4)  # changes with every server start: viewers then reset
        self.languages: list[str] = []
        self.latencies: list[dict[str, float]] = []  # the last finals: seconds after end of speech
        self._states: OrderedDict[int, UtteranceState] = OrderedDict()
        self._seq = 0
        self._viewers: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()  # guards _loop between threads
        self.dropped_viewers = 0
        self.listeners: list[Callable[[CaptionEvent], None]] = []  # called on the loop after each event

    # -- any thread ----------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        with self._lock:
            self._loop = loop

    def sink(self, event: CaptionEvent) -> None:
        """The pipeline sink: never blocks, never raises (drops events while no server runs)."""
        with self._lock:
            loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self.publish, event, time.monotonic())
        except RuntimeError:  # the loop closed meanwhile
            pass

    @property
    def viewer_count(self) -> int:
        return len(self._viewers)

    # -- the loop's thread -----------------------------------------------------------------

    def publish(self, event: CaptionEvent, received: float | None = None) -> None:
        """Apply one event and queue the utterance's new state to every viewer."""
        state = self._apply(event)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("caption hub listener %r failed", listener)
        if state is None:
            return
        if event.is_final and not event.is_update and event.emitted_at > 0:
            self.latencies.append({
                "utterance": event.utterance_id,
                "after_speech_s": round(max(0.0, event.emitted_at - event.audio_end), 3),
                "at": time.time(),
            })
            del self.latencies[:-20]
        text = json.dumps(state.message(), ensure_ascii=False, separators=(",", ":"))
        for queue in list(self._viewers):
            try:
                queue.put_nowait(text)
            except asyncio.QueueFull:  # too slow: cut it off, it reconnects and resumes
                self._viewers.discard(queue)
                self.dropped_viewers += 1
                _close(queue)

    def subscribe(self, since: int = 0, epoch: str = "") -> tuple[asyncio.Queue, list[str], bool]:
        """A queue for a new viewer, the messages it missed, and whether it must reset.

        A viewer from another server run (other ``epoch``) or one that never saw anything
        gets the whole history; otherwise only utterances changed after ``since``.
        """
        reset = epoch != self.epoch or since > self._seq
        start = 0 if reset else since
        backlog = [
            json.dumps(s.message(), ensure_ascii=False, separators=(",", ":"))
            for s in sorted(self._states.values(), key=lambda s: s.seq)
            if s.seq > start
        ]
        queue: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT)
        self._viewers.add(queue)
        return queue, backlog, reset

    def broadcast(self, message: dict[str, Any]) -> None:
        """Send a message that is not a caption (web.conversation: end of a conversation) to every viewer now."""
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        for queue in list(self._viewers):
            try:
                queue.put_nowait(text)
            except asyncio.QueueFull:
                self._viewers.discard(queue)
                self.dropped_viewers += 1
                _close(queue)

    def state_of(self, utterance_id: int) -> UtteranceState | None:
        """What viewers were last sent about one utterance (None when it left the history)."""
        return self._states.get(utterance_id)

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._viewers.discard(queue)

    def close_all(self) -> None:
        for queue in list(self._viewers):
            _close(queue)
        self._viewers.clear()

    def hello(self, reset: bool) -> str:
        return json.dumps(
            {"t": "hello", "epoch": self.epoch, "seq": self._seq, "reset": reset, "languages": self.languages},
            ensure_ascii=False,
        )

    def _apply(self, event: CaptionEvent) -> UtteranceState | None:
        text, committed = event_texts(event)
        state = self._states.get(event.utterance_id)
        if state is None:
            if not text and not event.translations:
                return None
            state = self._states[event.utterance_id] = UtteranceState(event.utterance_id, event.audio_start, event.audio_end)
            while len(self._states) > self.history:
                self._states.popitem(last=False)
        state.end = max(state.end, event.audio_end)
        if event.readings:
            state.readings = {str(k): str(v) for k, v in event.readings.items() if k and v}
        state.source = event.source
        state.language = event.language
        for key, value in (("btn", event.details.get("button")), ("note", event.details.get("note"))):
            if isinstance(value, str) and value:
                state.extra[key] = value
        if event.update == UPDATE_CORRECTION:
            state.corrected = True
            state.translations, state.translated_final = {}, []  # the stage sends the new ones
        if not state.final or event.is_final:
            if (text, committed) != (state.text, state.committed) or not state.ruby:
                state.ruby = self.ruby(text, state.readings) if self.ruby and text else []
            state.text, state.committed = text, committed
        if event.is_final:
            state.final = True
            state.committed = state.text
        for language, translated in (event.translations or {}).items():
            if not isinstance(language, str) or not isinstance(translated, str):
                continue
            state.translations[language] = clean(translated).strip()
            if event.is_final and language not in state.translated_final:
                state.translated_final.append(language)
            if language not in self.languages and state.source == "clerk":  # a reply's own words add no channel
                self.languages.append(language)
        self._seq += 1
        state.seq = self._seq
        return state


def _close(queue: asyncio.Queue) -> None:
    """Tell a viewer's sender to stop (a None at the front of its queue)."""
    while True:
        try:
            queue.put_nowait(None)
            return
        except asyncio.QueueFull:
            queue.get_nowait()


def furigana_ranges(analyzer) -> Ruby:
    """A ruby function from a :class:`dictionary.analyzer.Analyzer`: (start, end, reading)
    for each kanji run; registered dictionary readings (surface → kana) take precedence."""

    def ruby(text: str, readings: dict[str, str]) -> list[tuple[int, int, str]]:
        out: list[tuple[int, int, str]] = []
        position = 0
        for segment, reading in analyzer.furigana(text):
            if reading:
                out.append((position, position + len(segment), reading))
            position += len(segment)
        for surface, reading in readings.items():
            at = text.find(surface)
            while at >= 0 and surface:
                end = at + len(surface)
                out = [r for r in out if r[1] <= at or r[0] >= end]
                out.append((at, end, reading))
                at = text.find(surface, end)
        return sorted(out)

    return ruby

