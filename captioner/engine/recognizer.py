"""The recognizer seam: what the pipeline needs from a speech recognizer.

A backend declares what it can do (:class:`Capabilities`); the pipeline only asks for what
is declared. The backends (one a module) import this module; the registry that loads the
one ``asr.backend`` names is :mod:`captioner.engine.backends`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

Progress = Callable[[int, int], None]
BACKENDS = ("whisper", "sherpa")  # the names :func:`captioner.engine.backends.create_recognizer` loads
HOTWORD_SEPARATOR = "、"  # between the words of ``transcribe(hotwords=...)``


@dataclass
class AsrOptions:
    """Speech model and decoding settings (``asr:`` in the config)."""

    backend: str = "whisper"
    model: str = "base"
    device: str = "auto"
    compute_type: str = "auto"  # Whisper only
    cpu_threads: int = 0
    language: str = "ja"
    allow_download: bool = False
    final_beam_size: int = 1
    partial_beam_size: int = 1
    pad_seconds: float = 1.0
    condition_on_previous: bool = True
    initial_prompt: str = ""

    def validate(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r} (valid: {', '.join(BACKENDS)})")


@dataclass(frozen=True)
class Capabilities:
    """What a backend's ``transcribe`` honours."""

    forced_prefix: bool  # ``prefix`` is forced as the start of the output
    prompt: bool  # ``previous_text`` conditions the decoding
    hotwords: bool  # ``hotwords`` (registered words) bias the decoding toward them
    no_speech_prob: bool  # ``Hypothesis.no_speech_prob`` is a real estimate (else 0.0)


@dataclass(frozen=True)
class Hypothesis:
    """One decoding of an audio span, with the scores the hallucination guard reads."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    seconds: float  # decoding time
    prompted: tuple[str, ...] = ()  # the words the decoding was primed with (set by the pipeline)


def compression_ratio(text: str) -> float:
    """How well the text compresses: loops of repeated phrases compress very well."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


class Recognizer(Protocol):
    """Decodes one utterance (16 kHz float32 mono, at most 30 s); may be called from two threads."""

    capabilities: Capabilities

    def transcribe(
        self, audio: np.ndarray, *, beam_size: int = 1, previous_text: str = "", prefix: str = "", hotwords: str = ""
    ) -> Hypothesis:
        """``hotwords``: registered words joined by HOTWORD_SEPARATOR (honoured where ``capabilities.hotwords``)."""
        ...

    def describe(self) -> dict[str, object]: ...

    def unwritable(self, text: str) -> str:
        """The characters of ``text`` the model can never write (none for an open vocabulary)."""
        ...

