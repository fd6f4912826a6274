"""Dictionary settings (``dictionary:`` in the config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from captioner.core.paths import data_dir

# Correction rules and over-correction guards that ``dictionary.rules_off`` can turn off one by
# one (``captioner dict ablate`` measures each; README "Measured" has the held-out table).
RULES = {
    "aliases": "registered wrong forms are replaced directly",
    "fuzzy": "readings within a small kana distance match (also the fuzzy option)",
    "common_readings": "a proper noun's common reading matches (also the common_readings option)",
    "kanji_readings": "each kanji may take any of its readings (集南市: しゅう・なん・し)",
    "fuzzy_kanji_readings": "fuzzy matches may read a lone kanji any way it can be read (小|椅子|町: こ・いす・ちょう)",
    "sound_alike": "readings of 5+ kana match any run of words that sounds close (a third of the kana may differ)",
    "long_matches": "exact readings of 5+ kana match whatever their parts of speech",
    "shown_names": "a name 2+ partials of the utterance showed is put back where its final lost it (開放に → 開北に)",
    "mixed_script": "exact readings of 4+ kana match a word written half in kanji, half in kana (紙とみに: 上富井に)",
    "ordinary_word_guard": "guard: a single ordinary word is replaced only when its reading is long",
    "adjective_guard": "guard: a word used as an adjective (豊富な) is never replaced",
    "particle_guard": "guard: a particle after a word does not start a name (をご is not 麻郷)",
    "short_reading_guard": "guard: readings of 3 kana or fewer match only kana or proper nouns",
    "short_kana_guard": "guard: text of 2 kana or fewer written in kana is never replaced (まの is not 真野)",
}

NEEDS_PARTIALS = {"shown_names"}  # rules that see the partials of an utterance (measured live, not by `dict ablate`)


@dataclass
class DictionaryOptions:
    """Where the word files live and how they bias and correct captions."""

    enabled: bool = True
    folder: str = ""  # "" = the user's data folder (see default_folder())
    reload_seconds: float = 1.0  # how often the folder is checked for edits
    hotwords_max: int = 0  # surfaces given to Whisper as context in every decoding (0 = off; see README)
    candidates_max: int = 0  # names that sound like what a partial heard, given to the final's decoding (0 = off)
    candidate_min_score: float = 75.0  # how close (0-100, approximate substring of the kana reading) a candidate must be
    fuzzy: bool = True  # also match readings within a small, length-scaled kana distance (false: exact readings only, no sound_alike either)
    common_readings: bool = False  # also match a proper noun's common reading (八代: やつしろ as well as やしろ); off: on held-out data it found no name and made 3 false alarms
    rules_off: list[str] = field(default_factory=list)  # correction rules and guards turned off (RULES)

    def validate(self) -> None:
        if not 0.1 <= self.reload_seconds <= 60:
            raise ValueError("reload_seconds must be between 0.1 and 60")
        if not 0 <= self.hotwords_max <= 100:
            raise ValueError("hotwords_max must be between 0 and 100")
        if not 0 <= self.candidates_max <= 50:
            raise ValueError("candidates_max must be between 0 and 50")
        if not 0 <= self.candidate_min_score <= 100:
            raise ValueError("candidate_min_score must be between 0 and 100")
        unknown = [r for r in self.rules_off if r not in RULES]
        if unknown:
            raise ValueError(f"rules_off: unknown rule {unknown[0]!r}; the rules are: {', '.join(RULES)}")

    def path(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else default_folder()


def default_folder() -> Path:
    """``dictionary/`` in the user's data folder (:mod:`captioner.core.paths`)."""
    return data_dir() / "dictionary"
