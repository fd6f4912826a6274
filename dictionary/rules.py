"""The correction rules, in the order they apply: matchers propose replacements, guards veto them.

Every rule has a name; ``dictionary.rules_off: [NAME]`` turns it off (guards too: they are on
by default and off only to measure them), and ``captioner dict ablate`` measures each
(docs/corrections.md explains the rules with examples and how they were chosen).

How the list is applied (:class:`dictionary.correct.Corrector`):

1. ``aliases`` replace registered wrong forms directly.
2. The word matchers (``looks_at`` :data:`WORDS`) read each run of up to six words
   that the span guards (:data:`SPAN`) let through, in the order of this list; for each reading
   of the run the first reading matcher whose match the match guards (:data:`MATCH`) allow wins.
3. The sentence matchers (:data:`SENTENCE`) read the whole sentence, in the order of this list.
4. The replacements found are placed best first: the loose ones (``sound_alike``,
   ``mixed_script``) last, then fewest kana edits, longest, highest priority, then in the
   order found; the placement guards (:data:`PLACE`) veto a replacement where it would go.
5. ``shown_names`` runs after the corrector, in the dictionary stage (it needs the utterance's
   partials, so ``dict ablate``, which corrects finals, cannot measure it).

A rule's ``constants`` are its tuning values (chosen on the corpus' tune split).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

MATCHER, GUARD = "matcher", "guard"
TEXT = "text"  # the whole text, as written
WORDS = "words"  # a run of words (morphemes with readings), one reading of it at a time
SENTENCE = "sentence"  # the sentence's words and readings at once
SPAN = "span"  # guards: a run of words before it is read
MATCH = "match"  # guards: a match, with the run it was found in
PLACE = "place"  # guards: a replacement where it would go in the text
PARTIALS = "partials"  # the partials of the utterance so far

LooksAt = Literal["text", "words", "sentence", "span", "match", "place", "partials"]


@dataclass(frozen=True)
class Rule:
    """One named matcher or guard: what it looks at, why it exists, its tuning constants."""

    name: str
    kind: Literal["matcher", "guard"]
    looks_at: LooksAt
    reason: str  # one line
    constants: Mapping[str, float] = field(default_factory=dict)
    guards: tuple[str, ...] = ()  # a guard: the matchers whose replacements it checks
    option: str = ""  # also needs this DictionaryOptions switch on (fuzzy, common_readings)

    def __getitem__(self, constant: str) -> float:
        return self.constants[constant]


READING_MATCHERS = ("exact_readings", "common_readings", "fuzzy")  # per reading of a run: the first match allowed wins
RUN_MATCHERS = ("fuzzy_kanji_readings", "kanji_readings")  # then the run as a whole
WORD_MATCHERS = READING_MATCHERS + RUN_MATCHERS

ALIASES = Rule("aliases", MATCHER, TEXT, "registered wrong forms are replaced directly")
EXACT_READINGS = Rule(
    "exact_readings", MATCHER, WORDS,
    "a run of words reads a registered reading (the analyzer's, each kanji read alone, digits read out)",
    {"readings_per_run": 8},
)  # fmt: skip
COMMON_READINGS = Rule(
    "common_readings", MATCHER, WORDS,
    "a proper noun's common reading matches, exactly only (八代: やつしろ as well as やしろ)", option="common_readings",
)  # fmt: skip
FUZZY = Rule(
    "fuzzy", MATCHER, WORDS,
    "readings within a small kana distance match: 1 kana from 5 kana on, 2 from 8 (集団市 → 周南市)",
    {"one_edit_from": 5, "two_edits_from": 8}, option="fuzzy",
)  # fmt: skip
FUZZY_KANJI_READINGS = Rule(
    "fuzzy_kanji_readings", MATCHER, WORDS,
    "fuzzy matches of 7+ kana may read a lone kanji any way it can be read (東取越町 with 町 ちょう)",
    {"min_kana": 7, "readings_per_run": 16}, option="fuzzy",
)  # fmt: skip
KANJI_READINGS = Rule(
    "kanji_readings", MATCHER, WORDS,
    "each lone kanji may take any of its readings, exact matches of 4+ kana (集南市 read しゅう・なん・し)",
    {"min_kana": 4},
)  # fmt: skip
LONG_MATCHES = Rule(
    "long_matches", MATCHER, SENTENCE,
    "exact readings of 5+ kana match whatever their parts of speech (見た自理本街 → 三田尻本町)",
    {"min_kana": 5},
)  # fmt: skip
SOUND_ALIKE = Rule(
    "sound_alike", MATCHER, SENTENCE,
    "readings of 5+ kana match any run of words that sounds close, a third of the kana may differ (石の巻きし → 石巻市)",
    {"min_kana": 5, "edits_per_kana": 0.34, "similarity": 0.75, "one_missing_from": 8}, option="fuzzy",
)  # fmt: skip
MIXED_SCRIPT = Rule(
    "mixed_script", MATCHER, SENTENCE,
    "exact readings of 4+ kana match a word written half in kanji, half in kana (紙とみに → 上富井に)",
    {"min_kana": 4, "min_kana_after": 2},
)  # fmt: skip
SHOWN_NAMES = Rule(
    "shown_names", MATCHER, PARTIALS,
    "a name 2+ partials of the utterance showed is put back where its final lost it (開放に → 開北に)",
    {"agreement": 2, "similarity": 0.5},
)  # fmt: skip

NOUN_PHRASE_GUARD = Rule(
    "noun_phrase_guard", GUARD, SPAN,
    "a run starts and ends on content, not on a verb, adjective or suffix (公園があり is not 公園通り)",
    guards=WORD_MATCHERS,
)  # fmt: skip
PARTICLE_GUARD = Rule(
    "particle_guard", GUARD, SPAN, "a particle after a word does not start a name (をご is not 麻郷)", guards=WORD_MATCHERS
)
ADJECTIVE_GUARD = Rule(
    "adjective_guard", GUARD, SPAN, "a word used as an adjective (豊富な) is never replaced", guards=WORD_MATCHERS
)
SHORT_READING_GUARD = Rule(
    "short_reading_guard", GUARD, MATCH,
    "readings of 3 kana or fewer match only kana or proper nouns (お is not 大)",
    {"max_kana": 3}, guards=READING_MATCHERS + ("fuzzy_kanji_readings",),
)  # fmt: skip
ORDINARY_WORD_GUARD = Rule(
    "ordinary_word_guard", GUARD, MATCH,
    "a single ordinary word is replaced only by an exact reading of 5+ kana (群れ, 胸, 可能 are words)",
    {"max_kana": 4}, guards=(*WORD_MATCHERS, "sound_alike", "shown_names"),
)  # fmt: skip
FUZZY_PARTICLE_GUARD = Rule(
    "fuzzy_particle_guard", GUARD, MATCH,
    "a fuzzy match never runs across a particle (場合は遠 is not 梅光園)", guards=("fuzzy", "fuzzy_kanji_readings"),
)  # fmt: skip
FUNCTION_END_GUARD = Rule(
    "function_end_guard", GUARD, MATCH,
    "a sound-alike match starts and ends on content unless it reads the name exactly with 6+ kana (中島だ is not 中島田)",
    {"exact_min_kana": 6}, guards=("sound_alike",),
)  # fmt: skip
LOOSE_PARTICLE_GUARD = Rule(
    "loose_particle_guard", GUARD, MATCH,
    "an inexact sound-alike match of fewer than 6 kana holds no particle (竹の口 is not 滝の口)",
    {"min_kana": 6}, guards=("sound_alike",),
)  # fmt: skip
OPEN_END_GUARD = Rule(
    "open_end_guard", GUARD, PLACE,
    "a partial's last word is left alone, it may go on (こち of こちら is not 河内)",
    guards=(*WORD_MATCHERS, "long_matches", "sound_alike", "mixed_script"),
)  # fmt: skip
KATAKANA_GUARD = Rule(
    "katakana_guard", GUARD, PLACE,
    "a replacement never cuts a katakana word (おス of おスマイ is not 大須)",
    guards=(*WORD_MATCHERS, "long_matches", "sound_alike", "mixed_script"),
)  # fmt: skip
SHORT_KANA_GUARD = Rule(
    "short_kana_guard", GUARD, PLACE,
    "text of 2 kana or fewer written in kana is never replaced (まの is not 真野)",
    {"max_kana": 2}, guards=(*WORD_MATCHERS, "long_matches", "sound_alike", "mixed_script"),
)  # fmt: skip
REGISTERED_GUARD = Rule(
    "registered_guard", GUARD, PLACE,
    "a registered word already written is replaced only by a longer, not loose match (花木 stays 花木)",
    guards=(*WORD_MATCHERS, "long_matches", "sound_alike", "mixed_script"),
)  # fmt: skip

RULES: tuple[Rule, ...] = (
    ALIASES,
    EXACT_READINGS,
    COMMON_READINGS,
    FUZZY,
    FUZZY_KANJI_READINGS,
    KANJI_READINGS,
    LONG_MATCHES,
    SOUND_ALIKE,
    MIXED_SCRIPT,
    SHOWN_NAMES,
    NOUN_PHRASE_GUARD,
    PARTICLE_GUARD,
    ADJECTIVE_GUARD,
    SHORT_READING_GUARD,
    ORDINARY_WORD_GUARD,
    FUZZY_PARTICLE_GUARD,
    FUNCTION_END_GUARD,
    LOOSE_PARTICLE_GUARD,
    OPEN_END_GUARD,
    KATAKANA_GUARD,
    SHORT_KANA_GUARD,
    REGISTERED_GUARD,
)
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
NEEDS_PARTIALS = frozenset(rule.name for rule in RULES if rule.looks_at == PARTIALS)


def active(rules_off: list[str] | tuple[str, ...], switches: Mapping[str, bool]) -> tuple[Rule, ...]:
    """The rules in use, in order: all but ``rules_off``, and those with an ``option`` only when
    ``switches`` has it on."""
    return tuple(r for r in RULES if r.name not in rules_off and (not r.option or switches.get(r.option, False)))
