"""Furigana for the caption window: ruby readings over kanji, from the dictionary's readings or
the shared Japanese analyzer (``dictionary.analyzer.shared_analyzer().furigana``)."""

from __future__ import annotations

import logging
from collections import OrderedDict

log = logging.getLogger(__name__)


class Furigana:
    """``furigana(text, readings)`` → [(start, end, hiragana)] for the kanji in ``text``.

    ``readings`` are (surface, hiragana) pairs from the dictionary stage (a place name's
    registered reading beats the analyzer's guess: 防府市 is ほうふし). Results are cached.
    """

    def __init__(self, size: int = 256) -> None:
        self._cache: OrderedDict[tuple, list[tuple[int, int, str]]] = OrderedDict()
        self._size = size
        self._failed = False

    def __call__(self, text: str, readings: tuple[tuple[str, str], ...] = ()) -> list[tuple[int, int, str]]:
        key = (text, readings)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        bases = self._compute(text, readings)
        self._cache[key] = bases
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return bases

    def _compute(self, text: str, readings: tuple[tuple[str, str], ...]) -> list[tuple[int, int, str]]:
        fixed: list[tuple[int, int, str]] = []
        taken = [False] * len(text)
        for surface, reading in sorted(set(readings), key=lambda r: -len(r[0])):
            start = text.find(surface)
            while start >= 0:
                end = start + len(surface)
                if not any(taken[start:end]):
                    fixed.append((start, end, _hiragana(reading)))
                    taken[start:end] = [True] * len(surface)
                start = text.find(surface, end)
        bases = [b for b in fixed if _has_kanji(text[b[0]:b[1]])]
        for chunk_start, chunk in _free_chunks(text, taken):
            offset = chunk_start
            for segment, reading in self._analyse(chunk):  # the segments add up to the chunk
                if reading and _has_kanji(segment):
                    bases.extend((offset + a, offset + b, r) for a, b, r in split_inner_kana(segment, reading))
                offset += len(segment)
        return sorted(bases)

    def _analyse(self, chunk: str) -> list[tuple[str, str | None]]:
        if self._failed:
            return []
        try:
            from dictionary.analyzer import shared_analyzer

            return shared_analyzer().furigana(chunk)
        except Exception as e:  # the analyzer missing must not stop the captions
            self._failed = True
            log.warning("furigana unavailable: %s", e)
            return []


def split_inner_kana(segment: str, reading: str) -> list[tuple[int, int, str]]:
    """Readings per kanji run when kana sit inside a word: 受け付 / うけつ → 受(う) 付(つ).

    Falls back to one reading over the whole segment when the kana do not line up.
    """
    import re

    runs = re.findall(r"[\u3040-\u309f\u30a0-\u30ffー]+|[^\u3040-\u309f\u30a0-\u30ffー]+", segment)
    if len(runs) < 2:
        return [(0, len(segment), reading)]
    pattern = "".join("(.+?)" if _has_kanji(run) else "(" + re.escape(_hiragana(run)) + ")" for run in runs)
    match = re.fullmatch(pattern, reading)
    if not match:
        return [(0, len(segment), reading)]
    out, offset = [], 0
    for run, part in zip(runs, match.groups()):
        if _has_kanji(run):
            out.append((offset, offset + len(run), part))
        offset += len(run)
    return out


def _free_chunks(text: str, taken: list[bool]):
    """Maximal runs of ``text`` not covered by dictionary readings: (start, chunk)."""
    start = None
    for i, used in enumerate(taken + [True]):
        if not used and start is None:
            start = i
        elif used and start is not None:
            yield start, text[start:i]
            start = None


def _has_kanji(text: str) -> bool:
    from dictionary.analyzer import has_kanji

    return has_kanji(text)


def _hiragana(reading: str) -> str:
    import jaconv

    return jaconv.kata2hira(reading)
