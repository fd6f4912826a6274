"""Shared fixtures: the evaluation set beside the checkout, the real model, configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EVAL_DIR = Path(os.environ.get("CAPTIONER_EVAL_DIR", REPO.parent / "shared" / "eval" / "dev"))


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not (EVAL_DIR / "refs.json").is_file():
        pytest.fail(f"evaluation set not found at {EVAL_DIR} (set CAPTIONER_EVAL_DIR)")
    return EVAL_DIR


@pytest.fixture(scope="session")
def recognizer():
    """The real default model (bundled Whisper base, int8 on CPU), loaded once."""
    from captioner.asr import AsrOptions, WhisperRecognizer

    return WhisperRecognizer(AsrOptions())
