"""Reading-based correction: spans of recognized text that *sound* like a registered word.

The recognized text is split into morphemes with kana readings. Runs of up to
``MAX_SPAN_TOKENS`` morphemes are compared with the entries' readings after
:func:`normalize_reading` (long vowels, small kana and っ folded away), exactly or, for long
readings, within a length-scaled edit distance. Each span may have several candidate
readings: the analyzer's, and one built from each kanji read on its own (the analyzer reads
豊富市 as トヨトミシ, the recognizer wrote 豊富 because it heard ホウフ).

A proper noun is also recognised by its common reading (the analyzer's): people, and the
recognizer, often say 八代 as やつしろ although the town is やしろ; the text shown is the
same. Such readings match exactly only, and never displace a registered reading.

Guards against over-correction: a span must look like a noun phrase (no verbs, adjectives or
auxiliaries; particles only inside it), a single ordinary word is replaced only when its
reading is long, and a word used as an adjective (豊富な) is never replaced. Aliases (known
wrong forms) are replaced directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from dictionary.analyzer import Analyzer, Token, has_kanji, shared_analyzer
from dictionary.entries import Entry, is_kana_reading, normalize_reading, to_hiragana
from dictionary.options import DictionaryOptions

MAX_SPAN_TOKENS = 6
MAX_READINGS_PER_SPAN = 8
DIGIT_READINGS = {
    "0": ("ぜろ", "れい"), "1": ("いち",), "2": ("に",), "3": ("さん",), "4": ("よん", "し"),
    "5": ("ご",), "6": ("ろく",), "7": ("なな", "しち"), "8": ("はち",), "9": ("きゅう", "く"),
}  # fmt: skip
CONTENT_POS = {"名詞", "接頭辞", "接尾辞", "代名詞", "形状詞"}
FUNCTION_POS = {"助詞", "助動詞"}
ORDINARY_POS = {"普通名詞", "一般"}
SHORT_WORD = 4  # a single ordinary word is replaced only if its reading is longer than this
SHORT_KEY = 3  # readings this short match only kana or proper nouns (お → 大, 市市 → 獅子)
MAX_DISTANCE = 2


@dataclass(frozen=True)
class Change:
    """One replacement made in the text."""

    start: int
    end: int
    original: str
    replacement: str
    entry: Entry
    reason: str


@dataclass(frozen=True)
class Correction:
    """The corrected text and the replacements that produced it."""

    text: str
    changes: tuple[Change, ...] = ()
    found: tuple[Entry, ...] = ()  # registered words in the corrected text (for furigana, names)

    @property
    def readings(self) -> dict[str, str]:
        return {e.surface: e.reading for e in self.found}


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    entry: Entry
    distance: int
    tokens: int
    reading: str
    common: bool = False  # matched the surface's common reading, not the registered one


def allowed_distance(length: int) -> int:
    """Kana edits tolerated for a normalized reading of ``length`` (conservative)."""
    if length < 5:
        return 0
    return 1 if length < 8 else MAX_DISTANCE


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@lru_cache(maxsize=512)  # bounded: a day sees many distinct readings, ~6 KB each (4,096 held 17+ MB)
def _deletes(key: str, depth: int) -> frozenset[str]:
    """All strings made by deleting up to ``depth`` characters (SymSpell's index keys)."""
    found = {key}
    frontier = {key}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return frozenset(found)


class Corrector:
    """Corrects text against a fixed set of entries (build a new one when they change)."""

    def __init__(
        self,
        entries: Sequence[Entry],
        options: DictionaryOptions | None = None,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.options = options or DictionaryOptions()
        self.analyzer = analyzer or shared_analyzer()
        self.entries = list(entries)
        self.by_key: dict[str, Entry] = {}
        for entry in sorted(self.entries, key=lambda e: -e.priority):  # stable: first wins ties
            self.by_key.setdefault(entry.key, entry)
        self.surfaces = {e.surface: e for e in self.entries}
        self.common_keys: dict[str, Entry] = {}  # common readings of proper nouns (see module doc)
        if self.options.common_readings:
            for entry in sorted(self.entries, key=lambda e: -e.priority):
                key = common_key(entry, self.analyzer)
                if key and key not in self.by_key:
                    self.common_keys.setdefault(key, entry)
        self.aliases = sorted(
            ((alias, e) for e in self.entries for alias in e.aliases if alias and alias != e.surface),
            key=lambda pair: -len(pair[0]),
        )
        self.fuzzy_index: dict[str, set[str]] = {}
        if self.options.fuzzy:
            for key in self.by_key:
                for variant in _deletes(key, allowed_distance(len(key))):
                    self.fuzzy_index.setdefault(variant, set()).add(key)

    def correct(self, text: str) -> Correction:
        """Replace misrecognized registered words in ``text``."""
        if not self.entries or not text:
            return Correction(text)
        changes = self._alias_changes(text)
        taken = [(c.start, c.end) for c in changes]
        found: list[Entry] = []
        tokens = self.analyzer.tokens(text)
        candidates = sorted(
            self._candidates(tokens),
            key=lambda c: (c.distance, -(c.end - c.start), -c.entry.priority),
        )
        for candidate in candidates:
            if any(candidate.start < end and start < candidate.end for start, end in taken):
                continue
            taken.append((candidate.start, candidate.end))
            original = text[candidate.start : candidate.end]
            if original in self.surfaces:
                found.append(self.surfaces[original])
                continue  # already a registered word (maybe a homophone): keep it, and the span
            entry = candidate.entry
            if candidate.common:
                reason = f"{original} ({candidate.reading}) is a common reading of {entry.surface} (registered: {entry.reading})"
            else:
                how = "reads" if candidate.distance == 0 else f"is {candidate.distance} kana from"
                reason = f"{original} ({candidate.reading}) {how} {entry.surface} ({entry.reading})"
            changes.append(Change(candidate.start, candidate.end, original, entry.surface, entry, reason))
        changes.sort(key=lambda c: c.start)
        pieces, position = [], 0
        for change in changes:
            pieces += [text[position : change.start], change.replacement]
            position = change.end
        pieces.append(text[position:])
        found += [c.entry for c in changes]
        return Correction("".join(pieces), tuple(changes), tuple(found))

    def _alias_changes(self, text: str) -> list[Change]:
        changes: list[Change] = []
        for alias, entry in self.aliases:
            start = text.find(alias)
            while start >= 0:
                end = start + len(alias)
                if not any(start < c.end and c.start < end for c in changes):
                    changes.append(Change(start, end, alias, entry.surface, entry, f"{alias} is a registered alias of {entry.surface}"))
                start = text.find(alias, end)
        return changes

    def _candidates(self, tokens: list[Token]) -> Iterable[_Candidate]:
        readings = [token_readings(t) for t in tokens]
        for i, first in enumerate(tokens):
            if not _may_start(first) and not _kana_only(first):
                continue
            for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS)):
                last = tokens[j]
                if j > i and not (_may_continue(last) or _kana_only(last)):
                    break
                if any(not r for r in readings[i : j + 1]):
                    break
                span = tokens[i : j + 1]
                if not _may_end(last) and not _kana_phrase(span):
                    continue
                following = tokens[j + 1] if j + 1 < len(tokens) else None
                if _adjectival(span, following):
                    continue
                for reading in itertools.islice(
                    ("".join(parts) for parts in itertools.product(*readings[i : j + 1])),
                    MAX_READINGS_PER_SPAN,
                ):
                    yield from self._matches(span, reading)

    def _matches(self, span: list[Token], reading: str) -> Iterable[_Candidate]:
        key = normalize_reading(reading)
        if len(key) < 2 or len(reading) <= SHORT_KEY and not _names_a_place(span):
            return
        start, end = span[0].start, span[-1].end
        entry = self.by_key.get(key)
        if entry is not None and _plausible(span, len(key), 0):
            yield _Candidate(start, end, entry, 0, len(span), reading)
            return
        entry = self.common_keys.get(key)
        if entry is not None and _plausible(span, len(key), 0):
            yield _Candidate(start, end, entry, 0, len(span), reading, common=True)
            return
        limit = allowed_distance(len(key))
        if not self.options.fuzzy or limit == 0 or not _plausible(span, len(key), limit):
            return
        seen: set[str] = set()
        for variant in _deletes(key, limit):
            for other in self.fuzzy_index.get(variant, ()):
                if other in seen:
                    continue
                seen.add(other)
                distance = edit_distance(key, other, min(limit, allowed_distance(len(other))))
                if 0 < distance <= min(limit, allowed_distance(len(other))) and _plausible(span, len(key), distance):
                    yield _Candidate(start, end, self.by_key[other], distance, len(span), reading)


def common_key(entry: Entry, analyzer: Analyzer) -> str:
    """The normalized common reading of a surface the analyzer knows as one proper noun, if it
    differs from the registered reading ("" otherwise: compounds get unreliable readings)."""
    tokens = analyzer.tokens(entry.surface)
    if len(tokens) != 1 or tokens[0].pos_detail != "固有名詞" or not tokens[0].kana:
        return ""
    key = normalize_reading(tokens[0].kana)
    return key if key != entry.key else ""


def token_readings(token: Token) -> tuple[str, ...]:
    """Candidate hiragana readings of one token ("" alternatives are dropped)."""
    surface = token.surface
    if surface.isdigit():
        return tuple("".join(p) for p in itertools.product(*(DIGIT_READINGS[d] for d in surface)))[:4]
    if is_kana_reading(surface):
        return (to_hiragana(surface),)
    readings = []
    if token.kana:
        readings.append(to_hiragana(token.kana))
    if has_kanji(surface) or not readings:
        alternative = "".join(_char_reading(c) for c in surface)
        if alternative and alternative not in readings and is_kana_reading(alternative):
            readings.append(alternative)
    return tuple(r for r in readings if r)


@lru_cache(maxsize=4096)
def _char_reading(char: str) -> str:
    """One kanji read on its own (the analyzer's reading of the character alone)."""
    if not has_kanji(char):
        return to_hiragana(char)
    tokens = shared_analyzer().tokens(char)
    return to_hiragana(tokens[0].kana) if tokens and tokens[0].kana else ""


def _kana_only(token: Token) -> bool:
    return is_kana_reading(token.surface)


def _may_start(token: Token) -> bool:
    """Spans start and end on content: a noun, a number, or kana the analyzer could not place."""
    if token.pos in FUNCTION_POS:
        return False
    return token.pos in CONTENT_POS or _kana_only(token) or token.surface.isdigit()


def _may_continue(token: Token) -> bool:
    return token.pos == "助詞" or _may_start(token)


_may_end = _may_start


def _kana_phrase(span: list[Token]) -> bool:
    """Kana the recognizer wrote for a name it did not know (いくの, うぷるい): the analyzer
    splits such text into particles and verbs, so its parts of speech are not evidence."""
    return all(_kana_only(t) for t in span) and any(t.pos not in FUNCTION_POS for t in span)


def _names_a_place(span: list[Token]) -> bool:
    """Short readings need more evidence: kana-only text or a proper noun."""
    return all(_kana_only(t) for t in span) or any(t.pos_detail == "固有名詞" for t in span)


def _adjectival(span: list[Token], following: Token | None) -> bool:
    """豊富な / 豊富に: a 形状詞 used as an adjective or adverb is not a name."""
    return any(t.pos == "形状詞" for t in span[-1:]) and following is not None and following.surface in ("な", "に", "だ", "で", "です")


def _plausible(span: list[Token], key_length: int, distance: int) -> bool:
    """Over-correction guard for one candidate span."""
    if len(span) == 1:
        token = span[0]
        ordinary = not _kana_only(token) and (token.pos == "形状詞" or token.pos_detail in ORDINARY_POS)
        if ordinary and (key_length <= SHORT_WORD or distance > 0):
            return False  # 群れ, 胸, 可能: ordinary words that happen to sound like a name
    return True
