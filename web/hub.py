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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from captioner.core.events import CaptionEvent
from captioner.core.lines import CaptionLines, Line
from captioner.core.text import writable

log = logging.getLogger(__name__)

QUEUE_LIMIT = 256  # messages a viewer may lag behind before it is disconnected (it reconnects)
Ruby = Callable[[str, dict[str, str]], list[tuple[int, int, str]]]


@dataclass
class ViewerLine:
    """What viewers were last sent about one utterance: its line, sequence number and furigana."""

    line: Line
    seq: int = 0
    ruby: list[tuple[int, int, str]] = field(default_factory=list)
    ruby_of: tuple = ()  # (text, readings) the furigana were computed for
    marks: dict[str, Any] = field(default_factory=dict)  # a final's facts and picture (web.marks)
    marks_of: str | None = None  # the text they were found in

    def message(self) -> dict[str, Any]:
        line = self.line
        return {
            "t": "cap",
            "seq": self.seq,
            "u": {
                "id": line.id,
                "start": round(line.start, 3),
                "end": round(line.end, 3),
                "text": line.text,
                "committed": line.committed,
                "final": line.final,
                "tr": line.translations,
                "trf": line.translated_final,
                "ruby": self.ruby,
                "src": line.source,
                "lang": line.language,
                "corr": line.corrected,
                **self.marks,
                **line.extra,
            },
        }


class CaptionHub:
    """The recent captions and the connected viewers (state lives on one event loop)."""

    def __init__(self, history: int = 10, ruby: Ruby | None = None) -> None:
        self.history = history
        self.ruby = ruby
        self.about = ""  # the speech model, its licence and attribution (the viewer's settings show it)
        self.epoch = secrets.token_hex(4)  # changes with every server start: viewers then reset
        self.lines = CaptionLines(history)  # the one reducer of events into lines (captioner.core.lines)
        self.latencies: list[dict[str, float]] = []  # the last finals: seconds after end of speech
        self._shown: dict[int, ViewerLine] = {}
        self._sealed: set[int] = set()  # finals of the conversation that ended last: never shown again
        self._seq = 0
        self._viewers: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()  # guards _loop between threads
        self.dropped_viewers = 0
        self.listeners: list[Callable[[CaptionEvent], None]] = []  # called on the loop after each event
        self.marker: Callable[[str], dict[str, Any]] | None = None  # a final's facts and picture (web.marks)

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
    def languages(self) -> list[str]:
        """The translation channels seen so far (a clerk's caption translated into them)."""
        return self.lines.languages

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
        if not writable(text):  # a lone surrogate cannot be sent: it would drop every viewer, again and again
            log.warning("caption %d has text that cannot be sent to viewers; left out", event.utterance_id)
            self._shown.pop(state.line.id, None)
            self.lines.forget(state.line.id)
            return
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
            for s in sorted(self._shown.values(), key=lambda s: s.seq)
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

    def seal(self) -> None:
        """A conversation ended: forget its captions, so a viewer that connects now gets nothing of
        it, and ignore late updates (translations, corrections) of its finals. An utterance still
        being spoken goes on."""
        self._sealed = {line.id for line in self.lines if line.final}
        for utterance_id in self._sealed:
            self.lines.forget(utterance_id)
            self._shown.pop(utterance_id, None)

    def state_of(self, utterance_id: int) -> ViewerLine | None:
        """What viewers were last sent about one utterance (None when it left the history)."""
        return self._shown.get(utterance_id)

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._viewers.discard(queue)

    def close_all(self) -> None:
        for queue in list(self._viewers):
            _close(queue)
        self._viewers.clear()

    def disconnect(self, queue: asyncio.Queue, code: int) -> None:
        """Close one viewer's WebSocket with ``code`` (``web.tablets``: its conversation ended, or the clerk dropped it)."""
        self._viewers.discard(queue)
        _close(queue, code)

    def hello(self, reset: bool, extra: dict[str, Any] | None = None) -> str:
        return json.dumps(
            {"t": "hello", "epoch": self.epoch, "seq": self._seq, "reset": reset, "languages": self.languages,
             "about": self.about, **(extra or {})},
            ensure_ascii=False,
        )

    def _apply(self, event: CaptionEvent) -> ViewerLine | None:
        if event.utterance_id in self._sealed:
            return None
        line = self.lines.apply(event)
        if line is None:
            return None
        shown = self._shown.get(line.id)
        if shown is None or shown.line is not line:
            shown = self._shown[line.id] = ViewerLine(line)
            for gone in [i for i in self._shown if self.lines.get(i) is None]:  # left the history
                del self._shown[gone]
        ruby_of = (line.text, tuple(line.readings.items()))
        if self.ruby and ruby_of != shown.ruby_of:
            shown.ruby = self.ruby(line.text, line.readings) if line.text else []
            shown.ruby_of = ruby_of
        if self.marker is not None and line.final and line.text != shown.marks_of:
            shown.marks, shown.marks_of = self.marker(line.text), line.text
        self._seq += 1
        shown.seq = self._seq
        return shown


async def stream(
    hub: CaptionHub, websocket, since: int = 0, epoch: str = "", *, hello: dict[str, Any] | None = None,
    queues: set[asyncio.Queue] | None = None,
) -> None:
    """Send the hub's messages to one WebSocket (the backlog after ``since``, then live) until it
    closes; ``hello`` adds fields to the first message, ``queues`` holds the viewer's queue while
    it is open (a tablet's, so it can be closed with :meth:`CaptionHub.disconnect`)."""
    from starlette.websockets import WebSocketDisconnect

    queue, backlog, reset = hub.subscribe(since, epoch)
    if queues is not None:
        queues.add(queue)
    try:
        await websocket.send_text(hub.hello(reset, hello))
        for message in backlog:
            await websocket.send_text(message)
        await websocket.send_text('{"t":"live"}')
        receiver = asyncio.ensure_future(_drain(websocket))
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                getter.cancel()
                break
            message = getter.result()
            if isinstance(message, int):  # 1012: the server restarts or the viewer lagged; web.tablets' codes
                receiver.cancel()
                await websocket.close(code=message)
                break
            await websocket.send_text(message)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.unsubscribe(queue)
        if queues is not None:
            queues.discard(queue)


async def _drain(websocket) -> None:
    """Read (and ignore) what the viewer sends, until it disconnects."""
    from starlette.websockets import WebSocketDisconnect

    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return


def _close(queue: asyncio.Queue, code: int = 1012) -> None:
    """Tell a viewer's sender to close its WebSocket with ``code`` (an int after the messages queued)."""
    while True:
        try:
            queue.put_nowait(code)
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

