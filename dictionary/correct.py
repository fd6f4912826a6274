"""Reading-based correction: spans of recognized text that *sound* like a registered word.

The recognized text is split into morphemes with kana readings. Runs of up to
``MAX_SPAN_TOKENS`` morphemes are compared with the entries' readings after
:func:`normalize_reading` (long vowels, small kana and っ folded away). What may match, and what
may not be replaced, is the ordered list of named rules in :mod:`dictionary.rules`; this module
applies it, finding each rule's finder or check by its name (:meth:`Corrector._finders`,
:func:`_span_checks`, :func:`_match_checks`, :func:`_place_checks`):

- text matchers: ``aliases`` (:meth:`Corrector._alias_changes`);
- word matchers, per run of words the span guards let through (:meth:`Corrector._word_matches`):
  a run may have several readings, the analyzer's and one built from each kanji read on its own
  (the analyzer reads 豊富市 as トヨトミシ, the recognizer wrote 豊富 because it heard ホウフ);
  for each, the first of ``exact_readings``, ``common_readings`` and ``fuzzy`` whose match the
  match guards allow wins; then ``fuzzy_kanji_readings`` and ``kanji_readings``;
- sentence matchers: ``long_matches``, ``sound_alike`` (:mod:`dictionary.sounds_like`),
  ``mixed_script``;
- then every match found is placed, best first, where the placement guards allow it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from captioner.core.metrics import edit_distance
from dictionary.analyzer import Analyzer, Token, has_kanji, shared_analyzer
from dictionary.entries import (
    Entry,
    extend_key,
    is_kana_reading,
    normalize_reading,
    to_hiragana,
)
from dictionary.options import DictionaryOptions
from dictionary.rules import (
    EXACT_READINGS,
    FUNCTION_END_GUARD,
    FUZZY,
    FUZZY_KANJI_READINGS,
    GUARD,
    KANJI_READINGS,
    LONG_MATCHES,
    LOOSE_PARTICLE_GUARD,
    MATCH,
    MIXED_SCRIPT,
    ORDINARY_WORD_GUARD,
    PLACE,
    READING_MATCHERS,
    RUN_MATCHERS,
    SENTENCE,
    SHORT_KANA_GUARD,
    SHORT_READING_GUARD,
    SPAN,
    active,
)
from dictionary.sounds_like import SoundAlikeIndex

MAX_SPAN_TOKENS = 6  # the longest run of words read as one name
DIGIT_READINGS = {
    "0": ("ぜろ", "れい"), "1": ("いち",), "2": ("に",), "3": ("さん",), "4": ("よん", "し"),
    "5": ("ご",), "6": ("ろく",), "7": ("なな", "しち"), "8": ("はち",), "9": ("きゅう", "く"),
}  # fmt: skip
CONTENT_POS = {"名詞", "接頭辞", "接尾辞", "代名詞", "形状詞"}
FUNCTION_POS = {"助詞", "助動詞"}
ORDINARY_POS = {"普通名詞", "一般"}
NEAR_CACHE = 8192  # readings whose close registered keys are remembered (~100 bytes each)


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
    """A replacement a matcher (``rule``) found in the words ``span``, before the guards."""

    start: int
    end: int
    entry: Entry
    distance: int
    reading: str
    rule: str
    span: tuple[Token, ...]
    key_length: int  # the normalized reading the guards judge (heard or registered)
    common: bool = False  # matched the surface's common reading, not the registered one
    loose: bool = False  # a sound-alike or mixed-script match: weaker evidence, tried last


@dataclass(frozen=True)
class _Place:
    """Where a candidate would go: the text, its partial's last word, the registered words in it."""

    text: str
    last_word: int | None
    registered: list[tuple[int, int, Entry]]


def allowed_distance(length: int) -> int:
    """Kana edits tolerated for a normalized reading of ``length`` (conservative: ``fuzzy``)."""
    if length < FUZZY["one_edit_from"]:
        return 0
    return 1 if length < FUZZY["two_edits_from"] else 2


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
        switches = {"fuzzy": self.options.fuzzy, "common_readings": self.options.common_readings}
        self.active = active(self.options.rules_off, switches)  # the rules in use, in order
        self.rules = {rule.name for rule in self.active}
        self.analyzer = analyzer or shared_analyzer()
        self.entries = list(entries)
        ranked = sorted(self.entries, key=lambda e: -e.priority)  # stable: first wins ties
        self.by_key: dict[str, Entry] = {}
        for entry in ranked:
            self.by_key.setdefault(entry.key, entry)
        self.surfaces = {e.surface: e for e in self.entries}
        self.surfaces_by_first: dict[str, list[str]] = {}  # first character → surfaces, longest first
        for surface in sorted(self.surfaces, key=len, reverse=True):
            if len(surface) > 1:  # a one-kanji town (集, 中) is an ordinary character elsewhere
                self.surfaces_by_first.setdefault(surface[0], []).append(surface)
        self.common_keys: dict[str, Entry] = {}  # common readings of proper nouns (see common_key)
        if "common_readings" in self.rules:
            for entry in ranked:
                key = common_key(entry, self.analyzer)
                if key and key not in self.by_key:
                    self.common_keys.setdefault(key, entry)
        self.aliases = sorted(
            ((alias, e) for e in self.entries for alias in e.aliases if alias and alias != e.surface),
            key=lambda pair: -len(pair[0]),
        )
        self.key_prefixes = {key[:n] for key in (*self.by_key, *self.common_keys) for n in range(len(key) + 1)}
        self.fuzzy_index: dict[str, set[str]] = {}
        self.key_lengths = {len(key) for key in self.by_key}
        self._near = lru_cache(maxsize=NEAR_CACHE)(self._near_keys)  # spans recur in every partial
        self.sound_alike = SoundAlikeIndex(self.by_key) if "sound_alike" in self.rules else None
        if "fuzzy" in self.rules:
            for key in self.by_key:
                for variant in _deletes(key, allowed_distance(len(key))):
                    self.fuzzy_index.setdefault(variant, set()).add(key)
        finders = self._finders()
        self._reading_matchers = [finders[r.name] for r in self.active if r.name in READING_MATCHERS]
        self._run_matchers = [finders[r.name] for r in self.active if r.name in RUN_MATCHERS]
        # the word matchers share one walk over the runs of words, before the sentence matchers
        self._passes = [self._word_matches, *(finders[r.name] for r in self.active if r.looks_at == SENTENCE)]
        span_checks, match_checks, place_checks = _span_checks(), _match_checks(), _place_checks()
        guards = [r for r in self.active if r.kind == GUARD]
        self._span_guards = [span_checks[g.name] for g in guards if g.looks_at == SPAN]
        self._match_guards = [(set(g.guards), match_checks[g.name]) for g in guards if g.looks_at == MATCH]
        self._place_guards = [place_checks[g.name] for g in guards if g.looks_at == PLACE]

    def _finders(self) -> dict[str, Callable[..., Iterable[_Candidate]]]:
        """Each matcher's finder by rule name (``aliases`` and ``shown_names`` are applied apart)."""
        return {
            "exact_readings": self._exact,
            "common_readings": self._common,
            "fuzzy": self._fuzzy,
            "fuzzy_kanji_readings": self._fuzzy_kanji_matches,
            "kanji_readings": self._spelled_matches,
            "long_matches": self._long_matches,
            "sound_alike": self._sound_alike_matches,
            "mixed_script": self._mixed_script_matches,
        }

    def correct(self, text: str, open_end: bool = False) -> Correction:
        """Replace misrecognized registered words in ``text``.

        ``open_end``: the text may stop mid-word (a partial caption), so its last word is not
        matched yet (``open_end_guard``)."""
        if not self.entries or not text:
            return Correction(text)
        changes = self._alias_changes(text) if "aliases" in self.rules else []
        taken = [(c.start, c.end) for c in changes]
        # written right already: kept whole, unless a longer match contains it (registered_guard)
        registered = [r for r in self.registered_in(text) if not any(r[0] < b and a < r[1] for a, b in taken)]
        tokens = _join_repeat_marks(self.analyzer.tokens(text))
        readings = [token_readings(t, "kanji_readings" in self.rules) for t in tokens]
        walks = [self._walk(tokens, readings, i) for i in range(len(tokens))]
        found = itertools.chain.from_iterable(find(tokens, readings, walks) for find in self._passes)
        candidates = sorted(found, key=lambda c: (c.loose, c.distance, -(c.end - c.start), -c.entry.priority))
        last_word = tokens[-1].start if open_end and tokens else None  # may still grow: nothing ends in it
        for candidate in candidates:
            if any(candidate.start < end and start < candidate.end for start, end in taken):
                continue
            place = _Place(text, last_word, registered)
            if not all(allows(candidate, place) for allows in self._place_guards):
                continue
            registered = [r for r in registered if not (candidate.start < r[1] and r[0] < candidate.end)]
            taken.append((candidate.start, candidate.end))
            changes.append(_change(text, candidate))
        changes.sort(key=lambda c: c.start)
        found_entries = [entry for _, _, entry in registered] + [c.entry for c in changes]
        return Correction(_replaced(text, changes), tuple(changes), tuple(found_entries))

    def correct_piece(self, text: str, end: int, open_end: bool = False) -> Correction:
        """Correct ``text[:end]`` (text being committed) with the rest of ``text`` (what follows
        it so far) as context, making only changes inside it: a word cut at ``end`` is judged
        whole."""
        whole = self.correct(text, open_end)
        changes = [c for c in whole.changes if c.end <= end]
        piece = _replaced(text[:end], changes)
        return Correction(piece, tuple(changes), tuple(entry for _, _, entry in self.registered_in(piece)))

    def registered_in(self, text: str) -> list[tuple[int, int, Entry]]:
        """Registered surfaces written in ``text`` (longest at each position, no overlaps)."""
        found, position = [], 0
        while position < len(text):
            for surface in self.surfaces_by_first.get(text[position], ()):
                if text.startswith(surface, position):
                    found.append((position, position + len(surface), self.surfaces[surface]))
                    position += len(surface)
                    break
            else:
                position += 1
        return found

    def plausible(self, span: Sequence[Token], key_length: int, distance: int) -> bool:
        """False when the ordinary-word guard forbids replacing ``span`` (群れ, 胸, 可能 are words)."""
        return "ordinary_word_guard" not in self.rules or _not_ordinary(span, key_length, distance)

    def _allowed(self, candidate: _Candidate) -> bool:
        """The match guards that check ``candidate``'s matcher allow it."""
        return all(allows(candidate) for checked, allows in self._match_guards if candidate.rule in checked)

    def _alias_changes(self, text: str) -> list[Change]:
        """``aliases``: registered wrong forms, longest first, replaced wherever written."""
        changes: list[Change] = []
        for alias, entry in self.aliases:
            start = text.find(alias)
            while start >= 0:
                end = start + len(alias)
                if not any(start < c.end and c.start < end for c in changes):
                    changes.append(Change(start, end, alias, entry.surface, entry, f"{alias} is a registered alias of {entry.surface}"))
                start = text.find(alias, end)
        return changes

    def _spans(self, tokens: list[Token], readings: list[tuple[str, ...]]) -> Iterable[tuple[int, int]]:
        """The runs of words (first, last index) the span guards let through. With the
        ``noun_phrase_guard``, a run starts on content or kana and goes on over content,
        particles and kana only."""
        shaped = "noun_phrase_guard" in self.rules
        for i, first in enumerate(tokens):
            if shaped and (not (_may_start(first) or _kana_only(first)) or first.pos == "接尾辞" and i > 0):
                continue  # a suffix belongs to the word before it (証 of 保険証)
            for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS)):
                if shaped and j > i and not (_may_continue(tokens[j]) or _kana_only(tokens[j])):
                    break
                if any(not r for r in readings[i : j + 1]):
                    break
                if all(allows(tokens, i, j) for allows in self._span_guards):
                    yield i, j

    def _word_matches(
        self, tokens: list[Token], readings: list[tuple[str, ...]], walks: list[list[dict[str, str]]]
    ) -> Iterable[_Candidate]:
        """The word matchers on each run of words the span guards let through, in the order of
        the rules: each reading of the run through the reading matchers (:meth:`_read`), then
        the run through ``fuzzy_kanji_readings`` and ``kanji_readings``."""
        for i, j in self._spans(tokens, readings):
            span, run = tokens[i : j + 1], readings[i : j + 1]
            tried = set()
            for reading in _joined_readings(run, EXACT_READINGS["readings_per_run"]):
                tried.add(reading)
                yield from self._read(span, reading)
            reached = walks[i][j - i] if j - i < len(walks[i]) else {}
            for find in self._run_matchers:
                yield from find(span, run, reached, tried)

    def _read(self, span: list[Token], reading: str) -> Iterable[_Candidate]:
        """One reading of a run: the first reading matcher with an allowed match wins."""
        key = normalize_reading(reading)
        if len(key) < 2:
            return
        for find in self._reading_matchers:
            found = [c for c in find(span, key, reading) if self._allowed(c)]
            if found:
                yield from found
                return

    def _exact(self, span: list[Token], key: str, reading: str) -> Iterable[_Candidate]:
        """``exact_readings``: the run reads a registered reading."""
        entry = self.by_key.get(key)
        if entry is not None:
            yield _Candidate(span[0].start, span[-1].end, entry, 0, reading, "exact_readings", tuple(span), len(key))

    def _common(self, span: list[Token], key: str, reading: str) -> Iterable[_Candidate]:
        """``common_readings``: the run reads a proper noun's common reading (:func:`common_key`)."""
        entry = self.common_keys.get(key)
        if entry is not None:
            yield _Candidate(span[0].start, span[-1].end, entry, 0, reading, "common_readings", tuple(span), len(key), common=True)

    def _fuzzy(self, span: list[Token], key: str, reading: str, rule: str = "fuzzy") -> Iterable[_Candidate]:
        """``fuzzy``: registered readings within :func:`allowed_distance` of the run's."""
        if allowed_distance(len(key)) == 0:
            return
        for other, distance in self._near(key):
            yield _Candidate(span[0].start, span[-1].end, self.by_key[other], distance, reading, rule, tuple(span), len(key))

    def _fuzzy_kanji_matches(
        self, span: list[Token], run: list[tuple[str, ...]], reached: dict[str, str], tried: set[str]
    ) -> Iterable[_Candidate]:
        """``fuzzy_kanji_readings``: fuzzy matches of the run's readings with each lone kanji read
        any way, of ``min_kana``+ kana only (小椅子町 is not 鯉池町); uses the ``fuzzy`` index."""
        if not any(map(_lone_kanji, span)):
            return
        loose = [_any_readings(t, r) for t, r in zip(span, run)]
        for reading in _joined_readings(loose, FUZZY_KANJI_READINGS["readings_per_run"]):
            key = normalize_reading(reading)
            if reading not in tried and len(key) >= FUZZY_KANJI_READINGS["min_kana"]:
                yield from (c for c in self._fuzzy(span, key, reading, "fuzzy_kanji_readings") if self._allowed(c))

    def _sound_alike_matches(self, tokens: list[Token], readings: list[tuple[str, ...]], walks: list) -> Iterable[_Candidate]:
        """``sound_alike``: :mod:`dictionary.sounds_like` matches in each run of tokens between
        punctuation or spaces."""
        if self.sound_alike is None:
            return
        for run in _runs(tokens, readings):
            parts, key = [], ""
            for i in run:  # normalized as one reading: a long vowel may run across tokens (ほんご|うちょう)
                longer = extend_key(key, readings[i][0])
                parts.append(longer[len(key) :])
                key = longer
            for found in self.sound_alike.find(tuple(parts)):
                span = tuple(tokens[run[found.first] : run[found.last] + 1])
                entry = self.by_key[found.key]
                candidate = _Candidate(span[0].start, span[-1].end, entry, found.distance, found.reading, "sound_alike", span, len(found.key), loose=True)
                if self._allowed(candidate):
                    yield candidate

    def _mixed_script_matches(self, tokens: list[Token], readings: list[tuple[str, ...]], walks: list) -> Iterable[_Candidate]:
        """``mixed_script``: exact readings written as a word with kanji and the kana that
        follow it, up to any character: Whisper writes part of a name in kanji, the rest in
        kana the analyzer cuts as it likes (紙|とみに, 早|た|か, 伊|ズ|もし), whatever part of
        speech it makes of the kanji (早 an adjective, 伊 a symbol). A lone kanji may take any
        of its readings. Not when a particle follows the word (山にしか is not 山西か)."""
        min_kana, min_after = MIXED_SCRIPT["min_kana"], MIXED_SCRIPT["min_kana_after"]
        for i, token in enumerate(tokens):
            if not has_kanji(token.surface) or token.pos in (*FUNCTION_POS, "接尾辞") or not _phrase_start(tokens, i):
                continue
            if i + 1 < len(tokens) and tokens[i + 1].pos == "助詞":
                continue  # a particle after a word is a particle: 山にしか is not 山西か
            kana: list[str] = []  # one reading per character of the text after the word
            end = token.end
            for after in tokens[i + 1 : i + MAX_SPAN_TOKENS]:
                if after.start != end or not _kana_only(after):
                    break
                kana += [to_hiragana(char) for char in after.surface]
                end = after.end
            heads = _any_readings(token, readings[i]) if "kanji_readings" in self.rules else readings[i]
            for head in heads:
                key = normalize_reading(head)
                for n, char in enumerate(kana, 1):
                    key = extend_key(key, char)
                    if n >= min_after and len(key) >= min_kana and key in self.by_key:
                        yield _Candidate(token.start, token.end + n, self.by_key[key], 0, head + "".join(kana[:n]), "mixed_script", (token,), len(key), loose=True)

    def _walk(self, tokens: list[Token], readings: list[tuple[str, ...]], i: int) -> list[dict[str, str]]:
        """The readings :meth:`_spell` reaches from token ``i`` to each later token, while any
        still begins a registered key (most walks end after a token or two)."""
        walk: list[dict[str, str]] = []
        reached = {"": ""}
        for j in range(i, min(len(tokens), i + MAX_SPAN_TOKENS)):
            if not readings[j] or _is_punctuation(tokens[j]):
                break
            reached = self._spell(reached, tokens[j], readings[j])
            if not reached:
                break
            walk.append(reached)
        return walk

    def _long_matches(self, tokens: list[Token], readings: list[tuple[str, ...]], walks: list[list[dict[str, str]]]) -> Iterable[_Candidate]:
        """``long_matches``: exact matches whatever the parts of speech: in text the recognizer
        got wrong they are noise (見た自理本街 reads みたじりほんまち: 三田尻本町), and so long a
        reading rarely happens by chance. Runs do not cross punctuation, and neither start with
        a particle or auxiliary after a word nor end on one."""
        for i, walk in enumerate(walks):
            if tokens[i].pos in FUNCTION_POS and not _phrase_start(tokens, i):
                continue
            for j, reached in enumerate(walk, i):
                for key, reading in reached.items():
                    entry = self.by_key.get(key)
                    if entry is not None and len(key) >= LONG_MATCHES["min_kana"] and tokens[j].pos not in FUNCTION_POS:
                        yield _Candidate(tokens[i].start, tokens[j].end, entry, 0, reading, "long_matches", tuple(tokens[i : j + 1]), len(key))

    def _spell(self, states: dict[str, str], token: Token, whole: tuple[str, ...]) -> dict[str, str]:
        """Extend partial readings by ``token``: read as a whole (``whole``), or, for a kanji the
        analyzer could not join into a word (集|南|市), with every reading it has (しゅう・なん・し;
        a word it knows, 好守, keeps its own readings: ``kanji_readings``). Only readings that
        begin a registered key are kept, so the walk stays small."""
        reached: dict[str, str] = {}
        for key, reading in states.items():
            for alternative in whole:
                self._reach(reached, key, reading, alternative)
        if "kanji_readings" in self.rules and has_kanji(token.surface) and len(token.surface.replace("々", "")) == 1:
            for key, reading in self._spell_kanji(states, token.surface).items():
                reached.setdefault(key, reading)
        return reached

    def _spell_kanji(self, states: dict[str, str], surface: str) -> dict[str, str]:
        """Extend partial readings by ``surface`` read character by character, each kanji with
        every reading it has (々 repeats the one before, kana read as written)."""
        walk: dict[str, str] = states
        previous: tuple[str, ...] = ()
        for char in surface:
            options = previous if char == "々" else char_readings(char)
            previous = options
            step: dict[str, str] = {}
            for key, reading in walk.items():
                for option in options:
                    self._reach(step, key, reading, option)
            walk = step
        return walk

    def _reach(self, reached: dict[str, str], key: str, reading: str, more: str) -> None:
        longer = extend_key(key, more)
        if longer in self.key_prefixes:
            reached.setdefault(longer, reading + more)

    def _spelled_matches(
        self, span: list[Token], run: list[tuple[str, ...]], reached: dict[str, str], tried: set[str]
    ) -> Iterable[_Candidate]:
        """``kanji_readings``: exact matches found by :meth:`_spell`, of ``min_kana``+ kana: with
        any reading of each kanji, short keys match too easily (所 しょ is not 庄)."""
        for key, reading in reached.items():
            entry = self.by_key.get(key)
            common = entry is None
            entry = entry or self.common_keys.get(key)
            if entry is None or len(key) < KANJI_READINGS["min_kana"]:
                continue
            candidate = _Candidate(span[0].start, span[-1].end, entry, 0, reading, "kanji_readings", tuple(span), len(key), common)
            if self._allowed(candidate):
                yield candidate

    def _near_keys(self, key: str) -> tuple[tuple[str, int], ...]:
        """Registered keys within the allowed distance of ``key`` (other than itself), with it."""
        limit = allowed_distance(len(key))
        if not any(abs(len(key) - length) <= limit for length in self.key_lengths):
            return ()
        found: dict[str, int | None] = {}
        for variant in _deletes(key, limit):
            for other in self.fuzzy_index.get(variant, ()):
                if other not in found:
                    cap = min(limit, allowed_distance(len(other)))
                    distance = edit_distance(key, other, cap)
                    found[other] = distance if 0 < distance <= cap else None
        return tuple(sorted((other, distance) for other, distance in found.items() if distance is not None))


def _change(text: str, candidate: _Candidate) -> Change:
    """The replacement a placed candidate makes, with the reason shown by ``dict try``."""
    original = text[candidate.start : candidate.end]
    entry = candidate.entry
    if candidate.common:
        reason = f"{original} ({candidate.reading}) is a common reading of {entry.surface} (registered: {entry.reading})"
    else:
        how = "reads" if candidate.distance == 0 else f"is {candidate.distance} kana from"
        how = f"sounds like (whatever its words), {how}" if candidate.loose else how
        reason = f"{original} ({candidate.reading}) {how} {entry.surface} ({entry.reading})"
    return Change(candidate.start, candidate.end, original, entry.surface, entry, reason)


# ------------------------------------------------------------------------------ the guards


def _span_checks() -> dict[str, Callable[[list[Token], int, int], bool]]:
    """Span guards by name: may the run of words ``tokens[i..j]`` be read as a name?"""

    def noun_phrase(tokens: list[Token], i: int, j: int) -> bool:
        span = tokens[i : j + 1]
        if not (_may_end(span[-1]) or _kana_phrase(span)) or not _may_close(span):
            return False
        return span[0].pos not in FUNCTION_POS or _kana_phrase(span)

    def no_particle_after_word(tokens: list[Token], i: int, j: int) -> bool:
        return tokens[i].pos not in FUNCTION_POS or _phrase_start(tokens, i)  # をご is not 麻郷, のため not 野多目

    def not_adjectival(tokens: list[Token], i: int, j: int) -> bool:
        return not _adjectival(tokens[i : j + 1], tokens[j + 1] if j + 1 < len(tokens) else None)

    return {"noun_phrase_guard": noun_phrase, "particle_guard": no_particle_after_word, "adjective_guard": not_adjectival}


def _match_checks() -> dict[str, Callable[[_Candidate], bool]]:
    """Match guards by name: may this match be a replacement?"""

    def long_enough(c: _Candidate) -> bool:
        return len(c.reading) > SHORT_READING_GUARD["max_kana"] or _names_a_place(c.span)

    def no_particle(c: _Candidate) -> bool:
        return not any(t.pos == "助詞" for t in c.span)  # only an exact reading may run across one (くしがはま)

    def content_ends(c: _Candidate) -> bool:
        on_function = c.span[0].pos in FUNCTION_POS or c.span[-1].pos in FUNCTION_POS
        return not on_function or (c.distance == 0 and c.key_length >= FUNCTION_END_GUARD["exact_min_kana"])

    def loose_particle(c: _Candidate) -> bool:
        short = c.distance and c.key_length < LOOSE_PARTICLE_GUARD["min_kana"]
        return not (short and any(t.pos == "助詞" for t in c.span))

    return {
        "short_reading_guard": long_enough,
        "ordinary_word_guard": lambda c: _not_ordinary(c.span, c.key_length, c.distance),
        "fuzzy_particle_guard": no_particle,
        "function_end_guard": content_ends,
        "loose_particle_guard": loose_particle,
    }


def _place_checks() -> dict[str, Callable[[_Candidate, _Place], bool]]:
    """Placement guards by name: may the candidate replace its text here?"""

    def closed(c: _Candidate, at: _Place) -> bool:
        return at.last_word is None or c.end <= at.last_word

    def not_registered(c: _Candidate, at: _Place) -> bool:
        inside = [r for r in at.registered if c.start < r[1] and r[0] < c.end]
        return all(_strictly_within(r, c) for r in inside) and not (inside and c.loose)

    return {
        "open_end_guard": closed,
        "katakana_guard": lambda c, at: not _cuts_katakana(at.text, c.start, c.end),
        "short_kana_guard": lambda c, at: not _short_kana(at.text[c.start : c.end]),
        "registered_guard": not_registered,
    }



def common_key(entry: Entry, analyzer: Analyzer) -> str:
    """The normalized common reading of a surface the analyzer knows as one proper noun, if it
    differs from the registered reading ("" otherwise: compounds get unreliable readings)."""
    reading = analyzer.proper_noun_reading(entry.surface)
    key = normalize_reading(reading) if reading else ""
    return key if key != entry.key else ""


def token_readings(token: Token, per_kanji: bool = True) -> tuple[str, ...]:
    """Candidate hiragana readings of one token ("" alternatives are dropped); ``per_kanji``:
    also each kanji read on its own."""
    surface = token.surface
    if surface.isascii() and surface.isdigit():  # the analyzer's reading covers ５ and ²
        return tuple(_joined_readings([DIGIT_READINGS[d] for d in surface], 4))
    if is_kana_reading(surface):
        return (to_hiragana(surface),)
    readings = []
    if token.kana:
        readings.append(to_hiragana(token.kana))
    if per_kanji and has_kanji(surface) or not readings:
        pieces = [_char_reading(c) for c in surface]
        alternative = "".join(pieces)
        if all(pieces) and alternative not in readings and is_kana_reading(alternative):
            readings.append(alternative)  # not when a kanji has no reading alone (療: 診療 is not しん)
    return tuple(r for r in readings if r)


def _lone_kanji(token: Token) -> bool:
    """A kanji the analyzer could not join into a word (集|南|市)."""
    return has_kanji(token.surface) and len(token.surface.replace("々", "")) == 1


def _any_readings(token: Token, readings: tuple[str, ...]) -> tuple[str, ...]:
    """``readings`` of a token, then, for a lone kanji, every other reading it has."""
    if not _lone_kanji(token) or len(token.surface) != 1:
        return readings
    return tuple(dict.fromkeys((*readings, *char_readings(token.surface))))


def _joined_readings(parts: Sequence[tuple[str, ...]], limit: int) -> Iterable[str]:
    """The first ``limit`` readings of a sequence, one alternative from each of ``parts``."""
    return itertools.islice(("".join(choice) for choice in itertools.product(*parts)), limit)


@lru_cache(maxsize=4096)
def _char_reading(char: str) -> str:
    """One kanji read on its own (the analyzer's reading of the character alone)."""
    if not has_kanji(char):
        return to_hiragana(char)
    tokens = shared_analyzer().tokens(char)
    return to_hiragana(tokens[0].kana) if tokens and tokens[0].kana else ""


def _runs(tokens: list[Token], readings: list[tuple[str, ...]]) -> Iterable[list[int]]:
    """Indices of the runs of tokens with readings between punctuation and spaces."""
    run: list[int] = []
    for i, token in enumerate(tokens):
        if run and tokens[run[-1]].end < token.start:
            yield run
            run = []
        if readings[i] and not _is_punctuation(token):
            run.append(i)
        elif run:
            yield run
            run = []
    if run:
        yield run


def _is_punctuation(token: Token) -> bool:
    """A symbol or space; not a kanji UniDic tags 記号 because it knows it only as a character
    (引 and 刊 of 引刊登録証明書, Whisper's way of writing 印鑑登録証明書: イン|カン)."""
    return token.pos in ("補助記号", "記号", "空白") and not has_kanji(token.surface)


@lru_cache(maxsize=4096)
def char_readings(char: str) -> tuple[str, ...]:
    """Every hiragana reading of one character (a kana is itself)."""
    if not has_kanji(char):
        return (to_hiragana(char),)
    return tuple(to_hiragana(k) for k in shared_analyzer().readings_of(char))


def _replaced(text: str, changes: list[Change]) -> str:
    """``text`` with ``changes`` (sorted, not overlapping) made."""
    pieces, position = [], 0
    for change in changes:
        pieces += [text[position : change.start], change.replacement]
        position = change.end
    return "".join(pieces) + text[position:]


def _join_repeat_marks(tokens: list[Token]) -> list[Token]:
    """Glue 々 (repeat the kanji before) to its kanji, as the analyzer leaves it alone: 須|々 → 須々."""
    joined: list[Token] = []
    for token in tokens:
        if token.surface == "々" and joined and joined[-1].end == token.start and has_kanji(joined[-1].surface):
            before = joined[-1]
            kana = before.kana * 2 if len(before.surface) == 1 else ""
            joined[-1] = dataclasses.replace(before, surface=before.surface + "々", kana=kana, end=token.end)
        else:
            joined.append(token)
    return joined


def _kana_only(token: Token) -> bool:
    return is_kana_reading(token.surface)


def _may_start(token: Token) -> bool:
    """Spans start and end on content: a noun, a number, or kana the analyzer could not place."""
    if token.pos in FUNCTION_POS:
        return False
    return token.pos in CONTENT_POS or _kana_only(token) or token.surface.isdigit()


def _may_continue(token: Token) -> bool:
    return token.pos == "助詞" or _may_start(token)


def _may_end(token: Token) -> bool:
    """Unlike a start, an end is not a verb or adjective, even in kana (公園があり is not 公園通り),
    nor a prefix (お of お持ち belongs to the next word)."""
    return token.pos not in ("動詞", "形容詞", "接頭辞", *FUNCTION_POS) and _may_start(token)


def _strictly_within(written: tuple[int, int, Entry], candidate: _Candidate) -> bool:
    """A registered word already in the text may only be replaced as part of a longer match."""
    start, end, _ = written
    return candidate.start <= start and end <= candidate.end and end - start < candidate.end - candidate.start


def _cuts_katakana(text: str, start: int, end: int) -> bool:
    """A span that starts or ends inside a katakana word (おス of おスマイ) is not a name."""
    return any(0 < i < len(text) and _is_katakana(text[i - 1]) and _is_katakana(text[i]) for i in (start, end))


def _is_katakana(char: str) -> bool:
    return "\u30a1" <= char <= "\u30fa" or char == "ー"


def _phrase_start(tokens: list[Token], i: int) -> bool:
    """Token ``i`` starts a phrase: first, after a space or symbol, or after a particle
    (やしろ in 「大島とやしろの」 may be a name written in kana; を in 資料をご is a particle)."""
    if i == 0:
        return True
    before = tokens[i - 1]
    return before.end < tokens[i].start or _is_punctuation(before) or before.pos in FUNCTION_POS


def _may_close(span: list[Token]) -> bool:
    """A span ends on content, or on の in kana (いくの): 証を is not 庄. A lone kana word
    must be a noun: すぐ (an adverb) is not 須玖."""
    last = span[-1]
    if last.pos in FUNCTION_POS and not (last.surface == "の" and len(span) > 1 and _kana_phrase(span)):
        return False
    return not (len(span) == 1 and _kana_only(last) and last.pos not in ("名詞", "代名詞"))


def _kana_phrase(span: list[Token]) -> bool:
    """Kana the recognizer wrote for a name it did not know (いくの, うぷるい): the analyzer
    splits such text into particles and verbs, so its parts of speech are not evidence."""
    return all(_kana_only(t) for t in span) and any(t.pos not in FUNCTION_POS for t in span)


def _short_kana(original: str) -> bool:
    """``max_kana`` kana or fewer, written in kana: a fragment of any misheard word (まの, いの)
    more often than a name (くめ)."""
    return len(original) <= SHORT_KANA_GUARD["max_kana"] and is_kana_reading(original)


def _names_a_place(span: Sequence[Token]) -> bool:
    """Short readings need more evidence: kana-only text or a proper noun."""
    return all(_kana_only(t) for t in span) or any(t.pos_detail == "固有名詞" for t in span)


def _adjectival(span: list[Token], following: Token | None) -> bool:
    """豊富な / 豊富に: a 形状詞 used as an adjective or adverb is not a name."""
    return any(t.pos == "形状詞" for t in span[-1:]) and following is not None and following.surface in ("な", "に", "だ", "で", "です")


def _not_ordinary(span: Sequence[Token], key_length: int, distance: int) -> bool:
    """``ordinary_word_guard``: a single ordinary word is replaced only by a long exact reading."""
    if len(span) == 1:
        token = span[0]
        ordinary = not _kana_only(token) and (token.pos == "形状詞" or token.pos_detail in ORDINARY_POS)
        if ordinary and (key_length <= ORDINARY_WORD_GUARD["max_kana"] or distance > 0):
            return False  # 群れ, 胸, 可能: ordinary words that happen to sound like a name
    return True
