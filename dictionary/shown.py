"""Names the partials of an utterance showed, put back into its final when it lost them.

The recognizer decodes a growing utterance several times before its final; the final is one
more decoding and can lose a name the partials had (a final 開放に for 開北に, where two partials
read 開北). On the tune split, of the names that two or more partials of an utterance showed and
its final did not, 33 were in the reference and 6 were not; shown by one partial only, 20 and 28.
So a name ``SHOWN_AGREEMENT`` partials showed comes back into each later partial and the final
that lost it: the caption is lined up with the last partial that showed the name
(:mod:`difflib`), and the name takes the place of the whole words there (or of the run of them
that reads most like it) if they read at least ``SIMILARITY`` like it (normalized readings),
lie after the text already committed on screen, hold no punctuation and no registered word, and
are not one ordinary word (the corrector's ordinary-word guard: 福祉 is not 福井). A piece being
committed takes the name with it; committed text never changes afterwards.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field

from rapidfuzz.distance import Indel

from dictionary.correct import Change, Corrector, token_readings
from dictionary.entries import extend_key
from dictionary.rules import SHOWN_NAMES

SHOWN_AGREEMENT = SHOWN_NAMES["agreement"]  # partials that must show a name (as the commit policy asks two partials to agree)
SIMILARITY = SHOWN_NAMES["similarity"]  # of the name's reading, in the run that it replaces (Indel similarity)
MAX_RUN_TOKENS = 8
READINGS_PER_TOKEN = 3  # 小: しょう, こ, お
KEYS_PER_RUN = 16
BREAKS = set("、。，．,.?!？！ 　")


@dataclass
class ShownNames:
    """The names the partials of one utterance showed: in how many, and the last text with each."""

    counts: dict[str, int] = field(default_factory=dict)
    last_text: dict[str, str] = field(default_factory=dict)

    def add(self, text: str, names: set[str]) -> None:
        """One more partial, showing ``text`` with the registered ``names`` in it."""
        for name in names:
            if name in text:
                self.counts[name] = self.counts.get(name, 0) + 1
                self.last_text[name] = text


def restore(
    corrector: Corrector, text: str, shown: ShownNames, frozen: int, committed: int
) -> tuple[str, list[Change], int]:
    """``text`` (a corrected caption) with the names ``shown`` agreed on put back. Nothing before
    ``frozen`` (text committed on screen already) changes, and no replacement straddles
    ``committed`` (the end of the text being committed now). Returns the text, the
    replacements and where the committed text ends in it."""
    changes: list[Change] = []
    for name, times in sorted(shown.counts.items(), key=lambda item: -item[1]):
        entry = corrector.surfaces.get(name)
        if times < SHOWN_AGREEMENT or entry is None or name in text:
            continue
        source = shown.last_text[name]
        start = source.find(name)
        region = _aligned(source, text, start, start + len(name))
        if region is None or region[0] < frozen:
            continue
        run = _closest_run(corrector, text, region, entry.key)
        if run is None or run[0] < committed < run[1]:
            continue
        first, last = run
        original = text[first:last]
        reason = f"{original} is where {times} partials showed {name} ({entry.reading})"
        changes.append(Change(first, last, original, name, entry, reason))
        text = text[:first] + name + text[last:]
        if last <= committed:
            committed += len(name) - len(original)
    return text, changes, committed


def _aligned(source: str, target: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of ``target`` that lines up with ``source[start:end]`` (None: nothing does)."""
    first = last = None
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, source, target, autojunk=False).get_opcodes():
        if first is None and i1 <= start < i2:
            first = j1 + (start - i1) if tag == "equal" else j1
        if i1 <= end - 1 < i2:
            last = j1 + (end - i1) if tag == "equal" else j2
            break
    if first is None or last is None or last <= first:
        return None
    return first, last


def _closest_run(corrector: Corrector, text: str, region: tuple[int, int], key: str) -> tuple[int, int] | None:
    """The words of ``text`` that take the name's place: the whole words ``region`` touches if
    they read at least ``SIMILARITY`` like ``key``, else the run of them that reads most like it
    (None: none does, or the ordinary-word guard forbids it)."""
    tokens = [t for t in corrector.analyzer.tokens(text) if t.end > region[0] and t.start < region[1]]
    registered = [(a, b) for a, b, _ in corrector.registered_in(text)]
    runs: list[tuple[float, int, int, int]] = []  # (similarity, -length, first, last)
    for i in range(len(tokens)):
        keys = {""}
        for j in range(i, min(len(tokens), i + MAX_RUN_TOKENS)):
            token = tokens[j]
            if j > i and tokens[j - 1].end < token.start or any(c in BREAKS for c in token.surface):
                break
            readings = token_readings(token)[:READINGS_PER_TOKEN] or ("",)  # 療 alone has none: kept, not read
            keys = set(itertools.islice({extend_key(k, r) for k in keys for r in readings}, KEYS_PER_RUN))
            first, last = tokens[i].start, token.end
            if not any(a < last and first < b for a, b in registered):
                similarity = max(Indel.normalized_similarity(key, k) for k in keys)
                runs.append((similarity, first - last, first, last))
    whole = [r for r in runs if (r[2], r[3]) == (tokens[0].start, tokens[-1].end)] if tokens else []
    best = whole[0] if whole and whole[0][0] >= SIMILARITY else max(runs, default=None)
    if best is None or best[0] < SIMILARITY:
        return None
    first, last = best[2], best[3]
    span = [t for t in tokens if first <= t.start and t.end <= last]
    return (first, last) if corrector.plausible(span, len(key), 1) else None
