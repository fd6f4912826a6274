"""CUDA configured but unusable: the recognizer warns and runs on the CPU instead of failing."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from captioner.engine.recognizer import AsrOptions
from captioner.engine.whisper import WhisperRecognizer

pytestmark = pytest.mark.model


def test_cuda_without_a_usable_gpu_falls_back_to_the_cpu(caplog):
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("a GPU is usable here: nothing to fall back from")
    with caplog.at_level(logging.WARNING, logger="captioner.engine.whisper"):
        recognizer = WhisperRecognizer(AsrOptions(device="cuda", compute_type="float16"))
    assert (recognizer.device, recognizer.compute_type) == ("cpu", "int8")
    assert recognizer.describe()["cuda_fallback"]
    assert "CUDA is configured but failed" in caplog.text
    assert recognizer.transcribe(np.zeros(16000, dtype=np.float32)).seconds > 0  # it works


def test_a_gpu_that_fails_at_first_use_falls_back_to_the_cpu(monkeypatch, caplog):
    """The model loads on the GPU, but the first encode fails (driver, out of memory)."""
    loads: list[str] = []
    original = WhisperRecognizer._load

    def load(self, whisper_model):
        loads.append(self.device)
        device, compute_type = self.device, self.compute_type
        self.device, self.compute_type = "cpu", "int8"  # stand-in for a GPU load that succeeds
        try:
            return original(self, whisper_model)
        finally:
            self.device, self.compute_type = device, compute_type

    def smoke_test(self):
        raise RuntimeError("CUDA failed with error out of memory")

    monkeypatch.setattr(WhisperRecognizer, "_load", load)
    monkeypatch.setattr(WhisperRecognizer, "_smoke_test", smoke_test)
    with caplog.at_level(logging.WARNING, logger="captioner.engine.whisper"):
        recognizer = WhisperRecognizer(AsrOptions(device="cuda"))
    assert loads == ["cuda", "cpu"]
    assert recognizer.device == "cpu" and recognizer.fallback == "CUDA failed with error out of memory"
    assert "using the CPU (int8) instead" in caplog.text
