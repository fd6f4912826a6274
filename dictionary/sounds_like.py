"""Registered readings found loosely in a sentence's reading, whatever words it was written in.

The recognizer writes a name it does not know as whatever words sound close to it (石の巻きし
for 石巻市, 引判等6昇名書 for 印鑑登録証明書): the morphemes, their parts of speech and often a
kana or two are wrong, so matching word by word misses them. Here the sentence is read token by
token (normalized readings, :func:`dictionary.entries.normalize_reading`) and each registered
reading of ``MIN_KEY``+ kana is compared with the reading of every run of whole tokens of about
its length, never shorter (one kana shorter for ``ONE_MISSING_KEY``+ kana); it matches within ``RATIO`` of its length in kana edits
(Levenshtein, in C++) with ``SIMILARITY`` of its kana in common.
An index of kana pairs keeps the comparisons to the few readings that share enough pairs with
the sentence, and a partial-ratio check (rapidfuzz) to the few close ones: about 0.8 ms more
per corrected sentence with 5,000 words (tune split, whole finals).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, Levenshtein

from dictionary.rules import SOUND_ALIKE

ONE_MISSING_KEY = SOUND_ALIKE["one_missing_from"]  # readings this long may be heard with one kana missing
MIN_KEY = SOUND_ALIKE["min_kana"]  # shorter readings match ordinary words too easily
RATIO = SOUND_ALIKE["edits_per_kana"]  # kana edits allowed per kana of the registered reading (5 kana: 1, 6–8: 2, 9–11: 3)
SIMILARITY = SOUND_ALIKE["similarity"]  # and this share of kana in common (Indel similarity: a substituted kana counts twice)
PREFILTER = 65.0  # partial ratio a reading needs before runs are compared (40 % less time); keep it ≤ 100 × (1 − RATIO), what a match scores at least
CACHE = 4096  # token runs remembered (a run before a comma comes back in every later partial)


@dataclass(frozen=True)
class Found:
    """A registered ``key`` read in tokens ``first``..``last`` (of the run) with ``distance`` edits."""

    key: str
    first: int
    last: int
    distance: int
    reading: str


class SoundAlikeIndex:
    """Registered readings searchable in a run of token readings. Build a new one when they change."""

    def __init__(self, keys: Iterable[str], min_key: int = MIN_KEY, ratio: float = RATIO) -> None:
        self.min_key, self.ratio = min_key, ratio
        self.keys = [k for k in dict.fromkeys(keys) if len(k) >= min_key]
        self.pairs: dict[str, list[int]] = {}
        self.needed: list[int] = []  # pairs a key must share: each edit breaks at most two
        for index, key in enumerate(self.keys):
            pairs = _pairs(key)
            for pair in pairs:
                self.pairs.setdefault(pair, []).append(index)
            self.needed.append(max(1, len(pairs) - 2 * self.allowed(key)))
        self.find = lru_cache(maxsize=CACHE)(self._find)

    def allowed(self, key: str) -> int:
        return int(len(key) * self.ratio)

    def _find(self, parts: tuple[str, ...]) -> tuple[Found, ...]:
        """The registered readings found in the run ``parts`` (normalized token readings): for
        each, the closest runs of tokens (fewest edits, then the longest) that do not overlap."""
        joined = "".join(parts)
        if len(joined) < self.min_key:
            return ()
        shared: dict[int, int] = {}
        for pair in _pairs(joined):
            for index in self.pairs.get(pair, ()):
                shared[index] = shared.get(index, 0) + 1
        starts = list(itertools.accumulate(map(len, parts), initial=0))
        found = []
        for index, count in shared.items():
            key = self.keys[index]
            if count < self.needed[index] or not fuzz.partial_ratio(key, joined, score_cutoff=PREFILTER):
                continue
            limit = self.allowed(key)
            hits: list[tuple[int, int, int, int]] = []  # (distance, -tokens, first, last)
            for first in range(len(parts)):
                for last in range(first, len(parts)):
                    heard = joined[starts[first] : starts[last + 1]]
                    if len(heard) > len(key) + limit:
                        break
                    if len(heard) < len(key) - (len(key) >= ONE_MISSING_KEY):  # 本調 is not 本郷町
                        continue
                    distance = Levenshtein.distance(key, heard, score_cutoff=limit)
                    if distance <= limit and Indel.normalized_similarity(key, heard) >= SIMILARITY:
                        hits.append((distance, first - last, first, last))
            taken: list[tuple[int, int]] = []
            for distance, _, first, last in sorted(hits):
                if all(last < a or b < first for a, b in taken):
                    taken.append((first, last))
                    found.append(Found(key, first, last, distance, joined[starts[first] : starts[last + 1]]))
        return tuple(found)


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}
