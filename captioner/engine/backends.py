"""The backend registry: ``asr.backend`` → the recognizer that loads it, and the model's vocabulary.

Each backend is a module of its own (:mod:`captioner.engine.whisper`,
:mod:`captioner.engine.sherpa`) imported only when chosen, so one backend's runtime never
loads for another.
"""

from __future__ import annotations

from captioner.core.errors import ConfigError
from captioner.engine.recognizer import BACKENDS, AsrOptions, Progress, Recognizer
from captioner.engine.sherpa_folder import SherpaFolder


def create_recognizer(options: AsrOptions, progress: Progress | None = None) -> Recognizer:
    """The backend ``options.backend`` names, loaded (ModelError when it cannot be)."""
    if options.backend == "whisper":
        from captioner.engine.whisper import WhisperRecognizer

        return WhisperRecognizer(options, progress=progress)
    if options.backend == "sherpa":
        from captioner.engine.sherpa import SherpaRecognizer

        return SherpaRecognizer(options)
    raise ConfigError(f"asr.backend: unknown backend {options.backend!r} (valid: {', '.join(BACKENDS)})")


def model_vocabulary(options: AsrOptions) -> SherpaFolder | None:
    """The configured model's folder and tokens when it has a closed vocabulary (sherpa-onnx),
    read without loading the model; None for Whisper (it writes any character). ModelError
    when the folder is missing or incomplete."""
    if options.backend != "sherpa":
        return None
    from captioner.engine.sherpa import resolve_sherpa_model

    return resolve_sherpa_model(options.model)
