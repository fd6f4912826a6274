"""The Whisper backend (faster-whisper / CTranslate2): decodes one utterance at a time.

The encoder sees only the utterance (plus a little padding), not 30 s of padded audio:
CTranslate2 accepts shorter mel input, which makes encoding several times faster on a CPU.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from captioner.core.audio import SAMPLE_RATE
from captioner.core.errors import ModelError
from captioner.engine.model_store import Progress, resolve_model
from captioner.engine.recognizer import (
    AsrOptions,
    Capabilities,
    Hypothesis,
    compression_ratio,
)

log = logging.getLogger(__name__)

HOP = 160  # mel frames are 10 ms
MAX_FRAMES = 3000  # Whisper's 30 s window
WORKERS = 2  # decodings that can run at once: one for finals, one for partials
MAX_TOKENS_PER_SECOND = 12
CONTEXT_TOKENS = 220  # Whisper takes at most 223 tokens of context before the transcript
PREVIOUS_TOKENS = 60  # of which the previous caption may use this many  # Japanese speech is 5-9 tokens/s; more is a decoding loop


def bound_native_caches() -> None:
    """Keep oneDNN (CTranslate2 on x86 CPUs) from caching compiled kernels per input shape.

    The trimmed encoder sees a different length for every utterance; with oneDNN's default
    cache (1024 kernels) resident memory grew by ~100 MB over half an hour of soak
    (captioner/soak.py) and kept growing; with no cache it stays flat, for about 2 % more
    decoding time. Set the variable yourself to choose another capacity.
    """
    for name in ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "DNNL_PRIMITIVE_CACHE_CAPACITY"):
        os.environ.setdefault(name, "0")


def choose_device(device: str, compute_type: str) -> tuple[str, str]:
    """Resolve ``auto``: CUDA with float16 when a GPU is usable, else CPU with int8."""
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


class WhisperRecognizer:
    """Loads a Whisper model once and decodes utterances with trimmed encoder input.

    ``transcribe`` may be called from two threads at once (CTranslate2 runs ``WORKERS``
    decodings in parallel, each on ``cpu_threads`` threads). On a CPU one thread per decoding
    is faster than two: the decoder's per-token work is too small to split.
    """

    capabilities = Capabilities(forced_prefix=True, prompt=True, hotwords=True, no_speech_prob=True)

    def __init__(self, options: AsrOptions, progress: Progress | None = None) -> None:
        bound_native_caches()
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self.options = options
        self.model_path = resolve_model(options.model, options.allow_download, progress)
        self.device, self.compute_type = choose_device(options.device, options.compute_type)
        self.cpu_threads = options.cpu_threads or max(1, (os.cpu_count() or 1) // WORKERS)
        self.fallback: str | None = None  # why CUDA was not used although configured
        try:
            self.model = self._load(WhisperModel)
            if self.device == "cuda":
                self._smoke_test()  # a broken driver or too little GPU memory shows only when used
        except (RuntimeError, ValueError, OSError) as e:
            if self.device != "cuda":
                raise ModelError(f"cannot load model from {self.model_path}: {e}") from e
            self.fallback = str(e).splitlines()[0] if str(e) else type(e).__name__
            log.warning("CUDA is configured but failed (%s); using the CPU (int8) instead", self.fallback)
            self.device, self.compute_type = "cpu", "int8"
            try:
                self.model = self._load(WhisperModel)
            except (RuntimeError, ValueError, OSError) as e2:
                raise ModelError(f"cannot load model from {self.model_path}: {e2}") from e2
        if not self.model.model.is_multilingual and options.language not in ("en", ""):
            raise ModelError(f"model {options.model!r} is English-only; it cannot transcribe {options.language!r}")
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer, True, task="transcribe", language=options.language
        )
        self.suppress = _suppressed_tokens(self.tokenizer)

    def _load(self, whisper_model):
        return whisper_model(
            self.model_path,
            device=self.device,
            compute_type=self.compute_type,
            cpu_threads=self.cpu_threads,
            num_workers=WORKERS,
            local_files_only=True,
        )

    def _smoke_test(self) -> None:
        """Encode one second of silence: raises RuntimeError when the GPU cannot run the model."""
        self._encode(np.zeros(SAMPLE_RATE, dtype=np.float32), pad=0)

    def _encode(self, audio: np.ndarray, pad: int):
        """The encoder output for ``audio`` followed by ``pad`` samples of silence (no 30 s padding)."""
        import ctranslate2

        features = self.model.feature_extractor(audio, padding=pad)
        frames = min(MAX_FRAMES, features.shape[-1] - features.shape[-1] % 2)
        features = np.ascontiguousarray(features[np.newaxis, :, :frames], dtype=np.float32)
        return self.model.model.encode(ctranslate2.StorageView.from_array(features))

    def describe(self) -> dict[str, object]:
        return {
            "backend": "whisper",
            "model": self.options.model,
            "model_path": self.model_path,
            "device": self.device,
            "compute_type": self.compute_type,
            "cpu_threads": self.cpu_threads,
            "workers": WORKERS,
            **({"cuda_fallback": self.fallback} if self.fallback else {}),
        }

    def unwritable(self, text: str) -> str:
        return ""  # byte-level tokens: Whisper can write any character

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        beam_size: int = 1,
        previous_text: str = "",
        prefix: str = "",
        hotwords: str = "",
    ) -> Hypothesis:
        """Decode one utterance (16 kHz float32 mono, ≤ 30 s).

        ``hotwords`` (registered names) and ``previous_text`` (what was said before) condition
        the decoder; ``prefix`` forces the start of the output (text already committed), so
        the model only continues it.
        """
        started = time.perf_counter()
        encoded, duration = self.encode_utterance(audio)
        prompt, forced = self.prompt(hotwords, previous_text, prefix)
        max_new = int(min(220 - len(prompt), 8 + duration * MAX_TOKENS_PER_SECOND))
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=beam_size,
            max_length=len(prompt) + max(8, max_new),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self.suppress,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
        )[0]
        tokens = result.sequences_ids[0]
        if forced and tokens[: len(forced)] == forced:
            tokens = tokens[len(forced) :]  # the result repeats the forced prefix: it is already in ``prefix``
        text = prefix + decode_tokens(self.tokenizer, tokens).strip()
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        return Hypothesis(
            text=text,
            avg_logprob=avg_logprob,
            no_speech_prob=result.no_speech_prob,
            compression_ratio=compression_ratio(text),
            seconds=time.perf_counter() - started,
        )

    def encode_utterance(self, audio: np.ndarray):
        """The encoder output (a CTranslate2 StorageView) for an utterance as :meth:`transcribe`
        sees it (cut to fit 30 s with the padding, ``pad_seconds`` of silence after it), and the
        seconds of audio kept. Decoder adaptation (captioner/app/adapt) trains on exactly this."""
        pad = int(self.options.pad_seconds * SAMPLE_RATE)
        audio = audio[: MAX_FRAMES * HOP - pad]
        return self._encode(audio, pad), len(audio) / SAMPLE_RATE

    def prompt(self, hotwords: str, previous_text: str, prefix: str) -> tuple[list[int], list[int]]:
        """The decoder prompt (context, start of transcript, forced prefix) and the prefix's tokens."""
        tok = self.tokenizer
        context = tok.encode(f"{self.options.initial_prompt}{hotwords}")[:CONTEXT_TOKENS - PREVIOUS_TOKENS]
        if previous_text:
            context += tok.encode(previous_text)[-PREVIOUS_TOKENS:]
        prompt = [tok.sot_prev, *context] if context else []
        forced = tok.encode(prefix) if prefix else []
        return [*prompt, *tok.sot_sequence, tok.no_timestamps, *forced], forced


def decode_tokens(tokenizer, tokens: list[int]) -> str:
    """The text of generated tokens, never with U+FFFD.

    Whisper writes many kanji as two or three byte-level tokens; a decoding stopped by its
    length limit can end inside one (窓 = two tokens), which decodes to U+FFFD. Such an
    incomplete character at the end is held back (a later partial or the final brings it
    whole); bytes that form no character anywhere else are dropped.
    """
    text = tokenizer.decode(tokens)
    end = len(tokens)
    while text.endswith("\ufffd") and len(tokens) - end < 3 and end > 0:
        end -= 1
        text = tokenizer.decode(tokens[:end])
    return text.replace("\ufffd", "")


def _suppressed_tokens(tokenizer) -> list[int]:
    from faster_whisper.transcribe import get_suppressed_tokens

    return list(get_suppressed_tokens(tokenizer, [-1]))
