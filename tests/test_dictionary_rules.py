"""The correction rules as one ordered list: every rule named, switchable, documented in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dictionary.correct import Corrector
from dictionary.entries import Entry
from dictionary.options import DictionaryOptions
from dictionary.rules import BY_NAME, GUARD, MATCHER, NEEDS_PARTIALS, RULES, SENTENCE, WORD_MATCHERS, WORDS

REPO = Path(__file__).resolve().parents[1]


def test_the_list_names_each_rule_once_matchers_first_and_guards_check_known_matchers():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names)) == len(BY_NAME)
    kinds = [rule.kind for rule in RULES]
    assert kinds == sorted(kinds, key=lambda kind: kind != MATCHER)  # matchers, then guards
    matchers = {rule.name for rule in RULES if rule.kind == MATCHER}
    for rule in RULES:
        assert rule.reason and "\n" not in rule.reason
        assert set(rule.guards) <= matchers
        assert bool(rule.guards) == (rule.kind == GUARD), rule.name
    assert NEEDS_PARTIALS == {"shown_names"}
    looks_at = [rule.looks_at for rule in RULES if rule.looks_at in (WORDS, SENTENCE)]
    assert looks_at == sorted(looks_at, key=lambda at: at != WORDS)  # one walk over the words, then sentences
    assert {rule.name for rule in RULES if rule.looks_at == WORDS} == set(WORD_MATCHERS)


def test_every_matcher_has_a_finder_and_every_guard_a_check():
    finders = Corrector([])._finders()
    assert set(finders) == {rule.name for rule in RULES if rule.kind == MATCHER} - {"aliases", "shown_names"}
    assert Corrector([]).rules == set(BY_NAME) - {"common_readings"}  # guards built: each has a check


def test_docs_list_the_rules_in_the_order_of_the_code():
    text = (REPO / "docs" / "corrections.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| \d+ \| `([a-z_]+)` \|", text, flags=re.MULTILINE)
    assert listed == [rule.name for rule in RULES]


def test_every_rule_can_be_turned_off_by_name():
    entries = [Entry("周南市", "しゅうなんし"), Entry("石巻市", "いしのまきし")]
    for rule in RULES:
        options = DictionaryOptions(rules_off=[rule.name], common_readings=True)
        options.validate()
        corrector = Corrector(entries, options)
        assert rule.name not in corrector.rules
        assert corrector.correct("集南市の窓口、石の巻きしの方").text  # builds and runs without it
    assert {r.name for r in Corrector(entries, DictionaryOptions(common_readings=True)).active} == set(BY_NAME)


def test_options_switch_their_rules():
    corrector = Corrector([], DictionaryOptions(fuzzy=False))
    assert not {"fuzzy", "fuzzy_kanji_readings", "sound_alike", "common_readings"} & corrector.rules
    assert "exact_readings" in corrector.rules and "short_kana_guard" in corrector.rules


# Each guard that was always on before it had a name: on it keeps the text, off it lets a wrong
# replacement through (so `captioner dict ablate` can measure it).
GUARDED = [
    ("noun_phrase_guard", [Entry("庄", "しょう")], "保険証をお持ちでない方は", False),
    ("particle_guard", [Entry("野多目", "のため")], "本人確認のため", False),
    ("fuzzy_particle_guard", [Entry("櫛ヶ浜", "くしがはま")], "くしがまま", False),
    ("function_end_guard", [Entry("中島田", "なかしまだ")], "中島だと思います", False),
    ("loose_particle_guard", [Entry("滝の口", "たきのくち")], "竹の口は新町です", False),
    ("short_reading_guard", [Entry("獅子", "しし")], "お待ちください。市市", False),
    ("open_end_guard", [Entry("海応寺", "かいおうじ")], "教育委員会をお持", True),
]


@pytest.mark.parametrize(("name", "entries", "text", "open_end"), GUARDED, ids=[g[0] for g in GUARDED])
def test_a_guard_is_on_by_default_and_off_by_name(name, entries, text, open_end):
    assert Corrector(entries).correct(text, open_end).text == text
    assert Corrector(entries, DictionaryOptions(rules_off=[name])).correct(text, open_end).text != text


def test_without_the_registered_guard_a_word_already_written_is_replaced_by_itself():
    entries = [Entry("本郷", "ほんごう"), Entry("本郷町", "ほんごうちょう")]
    assert Corrector(entries).correct("本郷寮に行く").text == "本郷町に行く"
    off = Corrector(entries, DictionaryOptions(rules_off=["registered_guard"])).correct("本郷寮に行く")
    assert [(c.original, c.replacement) for c in off.changes] == [("本郷", "本郷")]
