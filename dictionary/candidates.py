"""Which registered names a caption may contain, found loosely by sound, to prime the recognizer.

The recognizer writes a name it does not know with other characters (防府市 → 豊富市, 周南 →
集南), but the sounds stay close. The caption's kana reading (MeCab) is normalized like the
registered readings (:func:`dictionary.entries.normalize_reading`) and every registered
reading is aligned against it as an approximate substring (``rapidfuzz``'s partial ratio, in
C++: about 2 ms for 5,000 words). The best few become the prompt of the next decoding of the
same utterance, so the recognizer can hear them; the reading correction then does the rest.
Candidates are a hint to the recognizer, never a correction by themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dictionary.analyzer import Analyzer, shared_analyzer
from dictionary.correct import token_readings
from dictionary.entries import Entry, normalize_reading

MIN_KEY = 3  # shorter readings (2 kana) match almost any caption by chance
MIN_SCORE = 75.0  # partial-ratio similarity (0-100) a reading needs to be a candidate


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    score: float  # 0-100: how well its reading aligns with a part of the caption's reading


class CandidateIndex:
    """Registered readings, searchable by a caption's sound. Build a new one when the words change."""

    def __init__(self, entries: Sequence[Entry], analyzer: Analyzer | None = None, min_score: float = MIN_SCORE) -> None:
        self.analyzer = analyzer or shared_analyzer()
        self.min_score = min_score
        ranked = sorted(entries, key=lambda e: -e.priority)  # stable: the first of equal priority wins
        by_key: dict[str, Entry] = {}
        for entry in ranked:
            if len(entry.key) >= MIN_KEY:
                by_key.setdefault(entry.key, entry)
        self.keys = list(by_key)
        self.entries = [by_key[k] for k in self.keys]

    def reading_key(self, text: str) -> str:
        """The caption's normalized kana reading (each token's first reading; symbols dropped)."""
        parts = []
        for token in self.analyzer.tokens(text):
            readings = token_readings(token)
            if readings:
                parts.append(readings[0])
        return normalize_reading("".join(parts))

    def find(self, text: str, limit: int = 16) -> list[Candidate]:
        """Up to ``limit`` entries whose reading sounds like a part of ``text``, best first."""
        if not text or not self.keys or limit <= 0:
            return []
        key = self.reading_key(text)
        if len(key) < MIN_KEY:
            return []
        found = process.extract(key, self.keys, scorer=fuzz.partial_ratio, limit=limit * 2, score_cutoff=self.min_score)
        ranked = sorted(found, key=lambda m: (-m[1], -len(self.keys[m[2]]), -self.entries[m[2]].priority))
        return [Candidate(self.entries[i], score) for _, score, i in ranked[:limit]]

