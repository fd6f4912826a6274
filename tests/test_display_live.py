"""``captioner run`` with the window: engine thread, status line, microphone retry, quit, fallback.

The speech side is replaced by small fakes (no model): these tests are about the threading
between the pipeline and the window, which the CLI tests then exercise with the real model.
"""

from __future__ import annotations

import threading
import time

import pytest

from captioner.core.errors import AudioFileError, ModelError
from captioner.core.events import CaptionEvent
from display import live
from display.status import BEHIND, MODEL_PREPARING, LagWatch


class FakePipeline:
    def __init__(self) -> None:
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()


@pytest.fixture
def statuses(monkeypatch, tmp_path):
    """Every status line set on the window, and a headless window with settings in tmp_path."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("CAPTIONER_CONFIG", str(tmp_path / "config.yaml"))
    from display.window import CaptionWindow

    seen: list[tuple[str, str | None]] = []
    original = CaptionWindow.set_status

    def record(self, text, warning=False, *, key="main"):
        seen.append((key, text))
        original(self, text, warning, key=key)

    monkeypatch.setattr(CaptionWindow, "set_status", record)
    return seen


def config():
    from captioner.app.config import Config

    return Config()


def test_events_shown_until_quit_and_pipeline_stopped(statuses):
    pipelines: list[FakePipeline] = []
    shown: list[str] = []

    def load(progress):
        for done in (0, 50, 100):
            progress(done, 100)
        return "recognizer"

    def run_pipeline(recognizer, source, sinks, on_start, status):
        assert recognizer == "recognizer" and source == "mic"
        pipeline = FakePipeline()
        pipelines.append(pipeline)
        on_start(pipeline)
        window = sinks[0]
        sinks[0](CaptionEvent("final", 1, "こんにちは。", 0.0, 1.0, 1.2, committed="こんにちは。"))
        deadline = time.monotonic() + 5
        while not window.board.paragraphs and time.monotonic() < deadline:
            time.sleep(0.01)
        shown.append(window.board.paragraph_text(window.board.paragraphs[0]).text)
        window.request_quit()  # as if Q was pressed
        assert pipeline.stopped.wait(5), "quitting must stop the pipeline"

    result = live.run_with_display(config(), open_source=lambda: "mic", load_recognizer=load, run_pipeline=run_pipeline)
    assert result == 0 and shown == ["こんにちは。"]
    assert ("model", MODEL_PREPARING.format(percent=50)) in statuses and ("model", None) in statuses


def test_an_unreadable_input_file_closes_the_window_and_is_raised(statuses):
    def open_source():
        raise AudioFileError("talk.wav: not an audio file")

    with pytest.raises(AudioFileError, match="not an audio file"):
        live.run_with_display(config(), open_source=open_source, load_recognizer=lambda p: "r", run_pipeline=None, file_input=True)


def test_stage_problems_reach_the_status_line(statuses):
    def run_pipeline(recognizer, source, sinks, on_start, status):
        on_start(FakePipeline())
        status("translation", "vi: no package")
        sinks[0].request_quit()

    assert live.run_with_display(config(), open_source=lambda: "mic", load_recognizer=lambda p: "r", run_pipeline=run_pipeline) == 0
    assert ("translation", "vi: no package") in statuses


def test_a_model_error_closes_the_window_and_is_raised(statuses):
    def load(progress):
        raise ModelError("model.bin missing")

    with pytest.raises(ModelError, match="model.bin missing"):
        live.run_with_display(config(), open_source=lambda: "mic", load_recognizer=load, run_pipeline=None)


def test_ctrl_c_stops_cleanly(statuses):
    import os
    import signal

    stopped = []
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when started as a background job of a script

    def run_pipeline(recognizer, source, sinks, on_start, status):
        pipeline = FakePipeline()
        on_start(pipeline)
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        stopped.append(pipeline.stopped.wait(10))

    result = live.run_with_display(config(), open_source=lambda: "mic", load_recognizer=lambda p: "r", run_pipeline=run_pipeline)
    assert result == 0 and stopped == [True]
    assert signal.getsignal(signal.SIGINT) is before  # restored


def test_end_of_a_file_keeps_the_last_caption_on_screen(statuses):
    done = threading.Event()

    def run_pipeline(recognizer, source, sinks, on_start, status):
        on_start(FakePipeline())
        sinks[0](CaptionEvent("final", 1, "終わりです。", 0.0, 1.0, 1.1, committed="終わりです。"))
        threading.Timer(0.3, sinks[0].request_quit).start()
        done.set()

    result = live.run_with_display(
        config(), open_source=lambda: "file", load_recognizer=lambda p: "r", run_pipeline=run_pipeline, file_input=True
    )
    assert result == 0 and done.is_set()
    assert any(key == "audio" and text and "End of input" in text for key, text in statuses)


def test_no_screen_returns_none_for_the_terminal_fallback(monkeypatch, caplog, tmp_path):
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")  # fails without DISPLAY, as on a machine with no desktop
    monkeypatch.setenv("CAPTIONER_CONFIG", str(tmp_path / "config.yaml"))

    def never(*args, **kwargs):
        raise AssertionError("nothing may start without a screen")

    assert live.run_with_display(config(), open_source=never, load_recognizer=never, run_pipeline=never) is None
    assert "showing captions in this terminal instead" in caplog.text and "--no-display" in caplog.text


def test_lag_watch_warns_while_captions_fall_behind():
    seen = []
    watch = LagWatch(lambda text, warning: seen.append((text, warning)), threshold_s=4.0)
    watch(CaptionEvent("partial", 1, "あ", 0.0, 10.0, 11.0))
    assert seen == []
    watch(CaptionEvent("final", 1, "あ", 0.0, 10.0, 16.5))
    assert seen == [(BEHIND.format(seconds=6.5), True)]
    watch(CaptionEvent("partial", 2, "い", 20.0, 21.0, 24.0))  # 3 s: still more than half
    assert len(seen) == 1
    watch(CaptionEvent("partial", 2, "い", 20.0, 22.0, 22.5))
    assert seen[-1] == (None, False)
