"""One stage failing never stops the others: a raising sink, a crashing caption window.

(Translation failures at run time are covered in test_translate_stage.py; ASR worker faults
and their backoff in test_recovery.py.)
"""

from __future__ import annotations

import logging

from captioner.app.config import Config
from captioner.app.session import CaptionSession
from captioner.app.sinks import FinalsCollector
from captioner.core.stages import fan_out
from captioner.engine.audio import FileSource
from captioner.engine.pipeline import CaptionPipeline
from dictionary.entries import Entry
from tests.conftest import EVAL_DIR
from tests.test_recovery import FakeRecognizer


def test_a_sink_that_raises_never_stops_captions_for_the_others(caplog):
    def broken_viewer(event):
        raise ConnectionError("viewer gone")

    collector = FinalsCollector()
    source = FileSource(EVAL_DIR / "session.wav", pace=None)
    pipeline = CaptionPipeline(Config(), FakeRecognizer(), source, fan_out([broken_viewer, collector]), partials=False, backpressure=True)
    pipeline.run()
    assert len(collector.finals) >= 15
    assert "caption sink" in caplog.text and "captions continue" in caplog.text


def test_a_failing_dictionary_correction_shows_the_caption_uncorrected(caplog):
    def broken_corrector(text, *args, **kwargs):
        raise KeyError("５")

    collector = FinalsCollector()
    source = FileSource(EVAL_DIR / "session.wav", pace=None)
    with CaptionSession(Config(), FakeRecognizer(), [collector], entries=[Entry("周南市", "しゅうなんし")]) as session:
        session.dictionary._corrector.correct = broken_corrector
        session.dictionary._corrector.correct_piece = broken_corrector
        session.run(source, partials=False, backpressure=True)
    assert len(collector.finals) >= 15 and all(e.corrected_text is None for e in collector.finals)
    assert "dictionary correction failed" in caplog.text and "shown without it" in caplog.text


def test_a_caption_window_that_crashes_hands_over_to_the_terminal(monkeypatch, tmp_path, capsys, caplog):
    """The window's drawing raises (a bug, a driver problem): captions go on in the terminal."""
    from captioner.app import cli

    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    config = tmp_path / "config.yaml"
    config.write_text(f"web:\n  enabled: false\ndictionary:\n  folder: {tmp_path / 'words'}\n", encoding="utf-8")
    monkeypatch.setenv("CAPTIONER_CONFIG", str(config))
    monkeypatch.setattr(cli, "_recognizer", lambda config, progress=None: FakeRecognizer())
    from display.window import CaptionWindow

    def render(self):
        raise RuntimeError("simulated drawing bug")

    monkeypatch.setattr(CaptionWindow, "render", render)
    with caplog.at_level(logging.INFO):
        code = cli.main(["run", "--input", str(EVAL_DIR / "d03.wav"), "--pace", "20"])
    assert code == 0
    assert "the caption window failed; captions continue in this terminal" in caplog.text
    assert "simulated drawing bug" in caplog.text  # the traceback is in the log
    assert "発話" in capsys.readouterr().out  # the captions, printed by the terminal fallback
