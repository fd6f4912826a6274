"""Dictionary settings (``dictionary:`` in the config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from captioner.core.paths import data_dir
from dictionary.rules import BY_NAME


@dataclass
class DictionaryOptions:
    """Where the word files live and how they bias and correct captions."""

    enabled: bool = True
    folder: str = ""  # "" = the user's data folder (see default_folder())
    reload_seconds: float = 1.0  # how often the folder is checked for edits
    hotwords_max: int = 0  # surfaces given to Whisper as context in every decoding (0 = off; see README)
    candidates_max: int = 0  # names that sound like what a partial heard, given to the final's decoding (0 = off)
    boost_candidates_max: int = 8  # for a recognizer that boosts hotwords without a prompt (sherpa transducer): names that sound like what the partials heard, boosted in the final's decoding (0 = off)
    candidate_min_score: float = 75.0  # how close (0-100, approximate substring of the kana reading) a candidate must be
    fuzzy: bool = True  # also match readings within a small, length-scaled kana distance (false: exact readings only, no fuzzy_kanji_readings or sound_alike either)
    common_readings: bool = False  # also match a proper noun's common reading (八代: やつしろ as well as やしろ); off: on held-out data it found no name and made 3 false alarms
    rules_off: list[str] = field(default_factory=list)  # correction rules and guards turned off (dictionary/rules.py)

    def validate(self) -> None:
        if not 0.1 <= self.reload_seconds <= 60:
            raise ValueError("reload_seconds must be between 0.1 and 60")
        if not 0 <= self.hotwords_max <= 100:
            raise ValueError("hotwords_max must be between 0 and 100")
        if not 0 <= self.candidates_max <= 50:
            raise ValueError("candidates_max must be between 0 and 50")
        if not 0 <= self.boost_candidates_max <= 50:
            raise ValueError("boost_candidates_max must be between 0 and 50")
        if not 0 <= self.candidate_min_score <= 100:
            raise ValueError("candidate_min_score must be between 0 and 100")
        unknown = [r for r in self.rules_off if r not in BY_NAME]
        if unknown:
            raise ValueError(f"rules_off: unknown rule {unknown[0]!r}; the rules are: {', '.join(BY_NAME)}")

    def path(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else default_folder()


def default_folder() -> Path:
    """``dictionary/`` in the user's data folder (:mod:`captioner.core.paths`)."""
    return data_dir() / "dictionary"
