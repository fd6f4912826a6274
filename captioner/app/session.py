"""The one session builder: every stage, thread and server of a captioning session, wired once.

``captioner run`` (terminal or caption window), ``transcribe``, ``bench`` and the soak all
build their chain here, so every figure measures what users run. A session is a context
manager: whatever it starts (dictionary watcher, web server, conversation log, translation
thread) is stopped when it exits, by the end of the input, an error or Ctrl+C, and a
failure half-way through start-up stops what had already started.

The stage order, written once (:meth:`CaptionSession._chain`)::

    pipeline → dictionary correction → masking on screen → (emitted_at stamped)
             → translation → fan-out: the caller's sinks, web hub, conversation log

Events made by hand on the web pages (the resident's replies and buttons, the clerk's quick
phrases and corrections) enter after the corrections; a new one takes its utterance id from
the session's counter (:attr:`CaptionSession.ids`, which the pipeline numbers utterances
with), and a reply is translated into Japanese by the translation stage's reply translator.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from captioner.app.config import Config
from captioner.core.events import CaptionEvent, UtteranceIds
from captioner.core.stages import Sink, Transform, fan_out, transformed
from captioner.engine.audio import AudioSource
from captioner.engine.pipeline import CaptionPipeline, PipelineStats
from captioner.engine.recognizer import Recognizer

log = logging.getLogger(__name__)

TIMINGS_KEPT = 10_000  # correction timings kept for the benchmark: a day's captions must not pile up
Status = Callable[[str, str | None], None]  # (key, text or None to clear): the caption window's status line


@dataclass
class SessionStats:
    """What the session's stages cost (the pipeline keeps its own :class:`PipelineStats`)."""

    correction_ms: deque[float] = field(default_factory=lambda: deque(maxlen=TIMINGS_KEPT))
    # the correcting thread's CPU time: the wall time above also counts waits for the interpreter
    correction_cpu_ms: deque[float] = field(default_factory=lambda: deque(maxlen=TIMINGS_KEPT))


class CaptionSession:
    """Builds the stages around ``sinks`` on enter; :meth:`run` captions one audio source.

    ``entries``: a fixed word list (the benchmark's set) instead of the user's dictionary
    folder and its watcher. ``web`` starts the browser viewer and admin page;
    ``conversation_log`` the log when the config enables it. ``status(key, text)`` reports
    problems (translation, log, audio) on the caption window's status line.
    """

    def __init__(
        self,
        config: Config,
        recognizer: Recognizer,
        sinks: Sequence[Sink],
        *,
        entries: Sequence[Any] | None = None,
        web: bool = False,
        conversation_log: bool = False,
        status: Status | None = None,
    ) -> None:
        self.config = config
        self.recognizer = recognizer
        self.sinks = list(sinks)
        self.entries = entries
        self.web = web
        self.conversation_log = conversation_log
        self.status = status
        self.stats = SessionStats()
        self.dictionary = None  # the DictionaryStage, when the dictionary is on
        self.translation = None  # the TranslationStage, when languages are configured
        self.server = None  # the web server, when it runs
        self.emit: Sink = fan_out(self.sinks)  # the whole chain, set on enter
        self.ids = UtteranceIds()  # unique across the session's pipelines and the replies made by hand
        self._stack = ExitStack()
        self._pipeline: CaptionPipeline | None = None
        self._lock = threading.Lock()

    # -- building --------------------------------------------------------------------------

    def __enter__(self) -> CaptionSession:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        self.dictionary = self._dictionary()
        sinks = list(self.sinks)
        if self.conversation_log and self.config.conversation_log.enabled:
            from captioner.convlog.log import ConversationLog

            sinks.append(ConversationLog(self.config.conversation_log, on_status=self._status("log")))
        hub = _Deferred()  # the web viewers, once the server runs
        if self.web:
            sinks.append(hub)
        published = self._chain(sinks)
        if self.web:
            self.server = self._web_server(published)
            hub.target = self.server.hub.sink if self.server is not None else None

    def _chain(self, sinks: list[Sink]) -> Sink:
        """The stage order: corrections, masking, the time stamp, translation, then every sink.

        Sets :attr:`emit` (the whole chain, for the pipeline) and returns the part after the
        corrections, for events made by hand (the clerk's corrections, the resident's replies).
        """
        sink = fan_out(sinks)
        if self.config.translate.languages:
            from translate.names import glossary_of
            from translate.stage import build_stage

            self.translation = build_stage(
                self.config.translate, [sink], glossary=glossary_of(self.dictionary), on_problem=self._status("translation")
            )
            self._stack.callback(self.translation.close)
            sink = self.translation
        sink = transformed(self._stamp, sink, "time stamp")
        if self.config.conversation_log.mask_on_screen:  # before translation: numbers reach no screen
            from captioner.convlog.masking import ScreenMasking

            sink = transformed(ScreenMasking(), sink, "masking")
        published = sink
        if self.dictionary is not None:
            sink = transformed(self._timed(self.dictionary.apply), sink, "dictionary correction")
        self.emit = sink
        return published

    def _dictionary(self):
        """The dictionary stage (kept up to date with the word folder unless ``entries`` is fixed)."""
        if self.entries is not None:
            if not self.entries:
                return None
            from dictionary.stage import DictionaryStage

            return DictionaryStage(self.config.dictionary, self.entries)
        if not self.config.dictionary.enabled:
            return None
        from dictionary.stage import DictionaryStage
        from dictionary.store import DictionaryWatcher

        stage = DictionaryStage(self.config.dictionary)
        watcher = self._stack.enter_context(
            DictionaryWatcher(self.config.dictionary, lambda result: stage.set_entries(result.entries))
        )
        stage.set_entries(watcher.current().entries)
        return stage

    def _web_server(self, publish: Sink):
        from captioner.app.models import model_about
        from web.runner import start_web

        model = self.recognizer.describe() if self.recognizer is not None else {}
        server = start_web(
            self.config, recognizer=self.recognizer, microphone=self._source_name, dictionary=self.dictionary,
            publish=publish, replies=self.translation.replies if self.translation is not None else None, ids=self.ids,
            about=model_about(model) if model else "", model_note=self._model_note(model),
        )  # fmt: skip
        if server is not None:
            self._stack.callback(server.stop)
        return server

    def _model_note(self, model: dict) -> Callable[[], str | None] | None:
        """For an adapted model (``model``: the recognizer's description): says when the
        dictionary changed after it was trained."""
        from captioner.app.adapt.stale import read_adapted, staleness

        path = model.get("model_path")
        record = read_adapted(Path(str(path))) if path else None
        if record is None or self.dictionary is None:
            return None
        dictionary = self.dictionary
        return lambda: staleness(record, dictionary.entries)

    def _timed(self, transform: Transform) -> Transform:
        def timed(event: CaptionEvent) -> CaptionEvent:
            started, started_cpu = time.perf_counter(), time.thread_time()
            try:
                return transform(event)
            finally:
                self.stats.correction_ms.append((time.perf_counter() - started) * 1000)
                self.stats.correction_cpu_ms.append((time.thread_time() - started_cpu) * 1000)

        return timed

    def _stamp(self, event: CaptionEvent) -> CaptionEvent:
        """``emitted_at`` once the corrections are done: the moment the sinks get the caption."""
        pipeline = self._pipeline
        return dataclasses.replace(event, emitted_at=pipeline.now()) if pipeline is not None else event

    def _status(self, key: str) -> Callable[[str | None], None] | None:
        if self.status is None:
            return None
        return lambda text: self.status(key, text)

    def _source_name(self) -> str | None:
        pipeline = self._pipeline
        return getattr(pipeline.source, "name", None) if pipeline is not None else None

    # -- running ---------------------------------------------------------------------------

    def pipeline(self, source: AudioSource, *, partials: bool | None = None, backpressure: bool = False) -> CaptionPipeline:
        """A pipeline on ``source`` that emits into this session's chain."""
        audio_status = self._status("audio")  # microphone unplugged, silent, clipping
        if audio_status is not None and hasattr(source, "add_status_listener"):
            source.add_status_listener(audio_status)
        prompt_words = None
        if self.dictionary is not None:  # Whisper takes the words as a prompt; a transducer boosts them
            prompt = self.recognizer.capabilities.prompt
            prompt_words = self.dictionary.prompt_words if prompt else self.dictionary.boost_words
        return CaptionPipeline(
            self.config, self.recognizer, source, self.emit,
            partials=partials, backpressure=backpressure, prompt_words=prompt_words, ids=self.ids,
        )  # fmt: skip

    def run(
        self,
        source: AudioSource,
        *,
        partials: bool | None = None,
        backpressure: bool = False,
        on_start: Callable[[CaptionPipeline], None] | None = None,
    ) -> PipelineStats:
        """Caption ``source`` until it ends or is stopped (Ctrl+C in the main thread stops it).

        ``on_start(pipeline)`` is called first (the caption window keeps it to stop it).
        """
        pipeline = self.pipeline(source, partials=partials, backpressure=backpressure)
        with self._lock:
            self._pipeline = pipeline
        if on_start is not None:
            on_start(pipeline)
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, lambda *_: pipeline.stop()) if in_main else None
        try:
            return pipeline.run()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)


class _Deferred:
    """A sink that forwards to ``target`` once it is set (the web hub starts after the chain is built)."""

    def __init__(self) -> None:
        self.target: Sink | None = None

    def __call__(self, event: CaptionEvent) -> None:
        if self.target is not None:
            self.target(event)
