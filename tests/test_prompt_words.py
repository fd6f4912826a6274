"""Finals are primed with the registered names the partials heard; partials are not."""

from __future__ import annotations

import threading

from captioner.app.config import Config
from captioner.app.session import CaptionSession
from captioner.app.sinks import FinalsCollector
from captioner.engine.audio import FileSource
from captioner.engine.recognizer import Capabilities, Hypothesis
from dictionary.entries import Entry
from tests.conftest import EVAL_DIR


class HearsTokuyama:
    """Writes the name the way an unprimed model does (in kana), and records each prompt."""

    capabilities = Capabilities(forced_prefix=True, prompt=True, hotwords=True, no_speech_prob=True)

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def transcribe(self, audio, *, beam_size=1, previous_text="", prefix="", hotwords=""):
        with self.lock:
            self.calls.append((len(audio), hotwords))
        text = "とくやま駅から来ました" if "徳山" not in hotwords else "徳山駅から来ました"
        return Hypothesis(text=text, avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=1.0, seconds=0.01)

    def describe(self):
        return {"model": "fake"}


def test_the_final_is_primed_with_names_heard_by_the_partials():
    config = Config()
    config.dictionary.candidates_max = 8
    recognizer = HearsTokuyama()
    collector = FinalsCollector()
    entries = [Entry("徳山", "とくやま"), Entry("周南市", "しゅうなんし"), Entry("防府市", "ほうふし")]
    with CaptionSession(config, recognizer, [collector], entries=entries) as session:
        session.run(FileSource(EVAL_DIR / "d01.wav", pace=3.0))
    prompts = [hotwords for _, hotwords in recognizer.calls]
    assert "" in prompts  # the partials: no names
    assert any("徳山" in p and "防府市" not in p for p in prompts)  # a final: the name it sounded like, only
    assert {e.display_text for e in collector.finals} == {"徳山駅から来ました"}  # d01 is two sentences: one or two finals
