"""The sherpa-onnx backend: Japanese transducers (ReazonSpeech k2) and NeMo CTC models (Parakeet-ja).

Each ``transcribe`` decodes the whole audio it is given (the pipeline re-decodes the growing
utterance for partials and decodes it once more for the final). A transducer decodes with
``modified_beam_search`` so that every call can carry its own hotwords: the registered names
the dictionary expects in this utterance, those with a character the model cannot write left
out (sherpa-onnx drops all hotwords of a stream when one cannot be encoded).

These models give no no-speech probability; ``avg_logprob`` is the mean of the emitted
tokens' log-probabilities (0.0 where the runtime gives none, as for CTC).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from captioner.core.audio import SAMPLE_RATE
from captioner.core.errors import ModelError
from captioner.engine.model_store import imported_models_root
from captioner.engine.recognizer import HOTWORD_SEPARATOR, AsrOptions, Capabilities, Hypothesis, compression_ratio
from captioner.engine.sherpa_folder import TRANSDUCER, SherpaFolder, read_sherpa_folder

log = logging.getLogger(__name__)

MAX_ACTIVE_PATHS = 4  # modified beam search's beam
HOTWORDS_SCORE = 1.5  # bonus a token of a hotword gets (sherpa-onnx's default)
WORKERS = 2  # decodings that can run at once: one for finals, one for partials
PROBE_TIMEOUT_S = 120


def resolve_sherpa_model(name: str) -> SherpaFolder:
    """The sherpa-onnx folder ``asr.model`` names: a path, or the short name of an imported model."""
    path = Path(name).expanduser()
    if not path.is_dir() and "/" not in name and os.sep not in name and (imported_models_root() / name).is_dir():
        path = imported_models_root() / name
    if not path.is_dir():
        raise ModelError(
            f"sherpa-onnx model {name!r} is neither a folder nor an imported model. On a PC with internet run "
            "`captioner model download reazonspeech-k2-v2 --to DIR` (or parakeet-ja), carry the folder here, "
            "then `captioner model import DIR/reazonspeech-k2-v2` and set asr.model to its name"
        )
    return read_sherpa_folder(path)


def load(folder: SherpaFolder, threads: int = 1, provider: str = "cpu"):
    """A ``sherpa_onnx.OfflineRecognizer`` for ``folder``."""
    import sherpa_onnx

    if folder.kind == TRANSDUCER:
        return sherpa_onnx.OfflineRecognizer.from_transducer(
            folder.file("encoder"), folder.file("decoder"), folder.file("joiner"), folder.file("tokens"),
            num_threads=threads, decoding_method="modified_beam_search", max_active_paths=MAX_ACTIVE_PATHS,
            hotwords_score=HOTWORDS_SCORE, modeling_unit="cjkchar", provider=provider,
        )  # fmt: skip
    return sherpa_onnx.OfflineRecognizer.from_nemo_ctc(
        folder.file("model"), folder.file("tokens"), num_threads=threads, provider=provider
    )


def probe(folder: Path) -> None:
    """Load and run the model once in a child process; ModelError with the runtime's words if it fails.

    sherpa-onnx ends the whole process (no exception) on some broken models, e.g. a decoder
    without its ``vocab_size`` metadata, so a folder is tried where that cannot stop captions.
    """
    code = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from captioner.engine.sherpa import load\n"
        "from captioner.engine.sherpa_folder import read_sherpa_folder\n"
        "r = load(read_sherpa_folder(Path(sys.argv[1])))\n"
        "s = r.create_stream(); s.accept_waveform(16000, np.zeros(16000, np.float32)); r.decode_stream(s)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as e:
        raise ModelError(f"{folder}: loading the model took over {PROBE_TIMEOUT_S} s") from e
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ModelError(f"{folder}: sherpa-onnx cannot load this model ({' / '.join(lines[-3:]) or f'exit {done.returncode}'})")


class SherpaRecognizer:
    """Loads a sherpa-onnx model folder once; ``transcribe`` may be called from two threads."""

    def __init__(self, options: AsrOptions) -> None:
        self.options = options
        self.folder = resolve_sherpa_model(options.model)
        probe(self.folder.path)
        self.cpu_threads = options.cpu_threads or max(1, (os.cpu_count() or 1) // WORKERS)
        self.provider = "cuda" if options.device == "cuda" else "cpu"
        try:
            self.recognizer = load(self.folder, self.cpu_threads, self.provider)
        except (RuntimeError, ValueError, OSError) as e:
            raise ModelError(f"cannot load sherpa-onnx model from {self.folder.path}: {e}") from e
        hotwords = self.folder.kind == TRANSDUCER
        self.capabilities = Capabilities(forced_prefix=False, prompt=False, hotwords=hotwords, no_speech_prob=False)
        self._skipped: set[str] = set()

    def describe(self) -> dict[str, object]:
        return {
            "backend": "sherpa",
            "model": self.options.model,
            "model_path": str(self.folder.path),
            "kind": self.folder.kind,
            "files": dict(self.folder.files),
            "decoding": "modified_beam_search" if self.capabilities.hotwords else "greedy_search",
            "device": self.provider,
            "cpu_threads": self.cpu_threads,
            "workers": WORKERS,
        }

    def unwritable(self, text: str) -> str:
        return self.folder.unwritable(text)

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        beam_size: int = 1,
        previous_text: str = "",
        prefix: str = "",
        hotwords: str = "",
    ) -> Hypothesis:
        """Decode one utterance; ``hotwords`` bias a transducer (``beam_size``, ``previous_text``
        and ``prefix`` have no counterpart here)."""
        started = time.perf_counter()
        words = self._writable(hotwords) if self.capabilities.hotwords else []
        stream = self.recognizer.create_stream(hotwords="/".join(words)) if words else self.recognizer.create_stream()
        stream.accept_waveform(SAMPLE_RATE, np.ascontiguousarray(audio, dtype=np.float32))
        self.recognizer.decode_stream(stream)
        result = stream.result
        text = result.text.strip()
        logprobs = list(result.ys_log_probs)
        return Hypothesis(
            text=text,
            avg_logprob=float(np.mean(logprobs)) if logprobs else 0.0,
            no_speech_prob=0.0,
            compression_ratio=compression_ratio(text),
            seconds=time.perf_counter() - started,
        )

    def _writable(self, hotwords: str) -> list[str]:
        """The hotwords the model can write (each character a token); the others are logged once."""
        words = []
        for word in hotwords.split(HOTWORD_SEPARATOR):
            word = "".join(word.split()).replace("/", "")
            if not word:
                continue
            if self.folder.unwritable(word):
                if word not in self._skipped:
                    self._skipped.add(word)
                    log.warning("hotword %r left out: the model cannot write %r", word, self.folder.unwritable(word))
                continue
            words.append(word)
        return words
