"""``captioner run`` with the caption window: pygame in the main thread, speech in the background.

The engine thread loads the model (progress in the status line), opens the audio source and
runs the pipeline; a missing or unplugged microphone is shown in the status line and retried
every few seconds. Closing the window, Q/Esc or Ctrl+C stops the pipeline and joins the
thread. Without a screen, :func:`run_with_display` returns None and the caller falls back to
the terminal.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from captioner.core.errors import DisplayUnavailable
from display import status as messages
from display.settings import apply_saved

log = logging.getLogger(__name__)

Sink = Callable[[Any], None]


class Engine:
    """Loads the recognizer and runs the pipeline until stopped (or the input file ends)."""

    def __init__(
        self,
        window,
        config,
        open_source: Callable[[], Any],
        load_recognizer: Callable[[Callable[[int, int], None]], Any],
        run_pipeline: Callable[..., Any],
        sinks: list[Sink],
        *,
        file_input: bool,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.window = window
        self.config = config
        self.open_source = open_source
        self.load_recognizer = load_recognizer
        self.run_pipeline = run_pipeline
        self.sinks = sinks
        self.file_input = file_input
        self.progress = progress
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._pipeline = None
        self._thread = threading.Thread(target=self._main, name="captioner-engine")

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._thread.join()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._halt.set()
        with self._lock:
            pipeline = self._pipeline
        if pipeline is not None:
            pipeline.stop()

    def _main(self) -> None:
        try:
            recognizer = self._load()
            if not self._halt.is_set():
                self._run(recognizer)
        except BaseException as e:  # re-raised by the main thread after the window closes
            self.error = e
            self.window.request_quit()

    def _load(self):
        status = functools.partial(self.window.set_status, key="model")
        status(messages.MODEL_LOADING)

        def progress(done: int, total: int) -> None:
            status(messages.MODEL_PREPARING.format(percent=100 * done // max(total, 1)))
            if self.progress is not None:
                self.progress(done, total)

        try:
            return self.load_recognizer(progress)
        finally:
            status(None)

    def _status(self, key: str, text: str | None) -> None:
        """A stage's problem (translation, log, microphone) on the status line; None clears it."""
        self.window.set_status(text, True, key=key)

    def _attach(self, pipeline) -> None:
        """Called by run_pipeline with the pipeline it is about to run (so stop() can reach it)."""
        with self._lock:
            self._pipeline = pipeline
        if self._halt.is_set():
            pipeline.stop()

    def _run(self, recognizer) -> None:
        """Caption the source until it ends or the window closes.

        The microphone source survives unplugging by itself and reports it through
        ``status`` (:mod:`captioner.engine.recovery`); a file that cannot be read raises.
        """
        source = self.open_source()
        try:
            self.run_pipeline(recognizer, source, self.sinks, on_start=self._attach, status=self._status)
        finally:
            with self._lock:
                self._pipeline = None
        if self.file_input and not self._halt.is_set():
            self.window.set_status(messages.INPUT_ENDED, key="audio")


def run_with_display(
    config,
    *,
    open_source: Callable[[], Any],
    load_recognizer: Callable[[Callable[[int, int], None]], Any],
    run_pipeline: Callable[..., Any],
    sinks: list[Sink] = (),
    file_input: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int | None:
    """Run live captions in the caption window; None when there is no screen to open it on.

    ``run_pipeline(recognizer, source, sinks, on_start=..., status=...)`` runs the session
    (dictionary, translation, ... around ``sinks``) on ``source`` in the engine thread,
    calling ``on_start(pipeline)`` first; ``status(key, text)`` shows a stage's problem on
    the status line. ``sinks`` (e.g. ``--jsonl``) get every event too.
    """
    from display.status import LagWatch
    from display.window import CaptionWindow

    settings = apply_saved(config)
    try:
        window = CaptionWindow(config.display, settings_path=settings)
        window.open()
    except DisplayUnavailable as e:
        log.warning("%s; showing captions in this terminal instead (--no-display skips the window)", e)
        return None
    lag = LagWatch(functools.partial(window.set_status, key="lag"), config.display.behind_after_s)
    languages = getattr(getattr(config, "translate", None), "languages", None) or []
    if languages:
        window.expect_translations(list(languages))
    engine = Engine(
        window, config, open_source, load_recognizer, run_pipeline, [window, lag, *sinks],
        file_input=file_input, progress=progress,
    )
    previous = signal.signal(signal.SIGINT, lambda *_: window.request_quit())
    try:
        engine.start()
        window.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        engine.stop()
        engine.join()
        window.close()
    if engine.error is not None:
        raise engine.error
    return 0
