"""Dictionary settings (``dictionary:`` in the config)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from captioner.core.paths import data_dir


@dataclass
class DictionaryOptions:
    """Where the word files live and how they bias and correct captions."""

    enabled: bool = True
    folder: str = ""  # "" = the user's data folder (see default_folder())
    reload_seconds: float = 1.0  # how often the folder is checked for edits
    hotwords_max: int = 0  # surfaces given to Whisper as context in every decoding (0 = off; see README)
    candidates_max: int = 0  # names that sound like what a partial heard, given to the final's decoding (0 = off)
    candidate_min_score: float = 75.0  # how close (0-100, approximate substring of the kana reading) a candidate must be
    fuzzy: bool = True  # also match readings within a small, length-scaled kana distance
    common_readings: bool = True  # also match a proper noun's common reading (八代: やつしろ as well as やしろ)

    def validate(self) -> None:
        if not 0.1 <= self.reload_seconds <= 60:
            raise ValueError("reload_seconds must be between 0.1 and 60")
        if not 0 <= self.hotwords_max <= 100:
            raise ValueError("hotwords_max must be between 0 and 100")
        if not 0 <= self.candidates_max <= 50:
            raise ValueError("candidates_max must be between 0 and 50")
        if not 0 <= self.candidate_min_score <= 100:
            raise ValueError("candidate_min_score must be between 0 and 100")

    def path(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else default_folder()


def default_folder() -> Path:
    """``dictionary/`` in the user's data folder (:mod:`captioner.core.paths`)."""
    return data_dir() / "dictionary"
