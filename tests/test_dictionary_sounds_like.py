"""Names the recognizer wrote as other words (石の巻きし, タキチョークムガ): :mod:`dictionary.sounds_like`
and the corrector's ``sound_alike`` rule, with the real analyzer."""

from __future__ import annotations

import pytest

from captioner.app.bench.dictionary_bench import fill_entries
from dictionary.correct import Corrector
from dictionary.entries import Entry
from dictionary.options import DictionaryOptions
from dictionary.sounds_like import SoundAlikeIndex


def test_a_reading_is_found_across_tokens_with_a_kana_wrong():
    index = SoundAlikeIndex(["いまばりし", "たきちょくむら"])
    found = index.find(("きょ", "は", "いま", "がり", "し", "やくしょ"))
    assert [(f.key, f.first, f.last, f.distance) for f in found] == [("いまばりし", 2, 4, 1)]
    assert found[0].reading == "いまがりし"


def test_too_far_or_too_short_readings_are_not_found():
    index = SoundAlikeIndex(["いまばりし", "ふくい"])
    assert index.keys == ["いまばりし"]  # 3 kana: would match anything
    assert index.find(("いま", "はれ", "し")) == ()  # 2 of 5 kana wrong
    assert index.find(("ふくい", "の")) == ()


def test_the_closest_run_of_whole_tokens_wins():
    found = SoundAlikeIndex(["じどふよてあて"]).find(("じど", "ふよ", "てあて", "の"))
    assert [(f.first, f.last, f.distance) for f in found] == [(0, 2, 0)]  # not 0..3 (じどふよてあての, 1 edit)
    found = SoundAlikeIndex(["じどふよてあて"]).find(("じど", "く", "ふ", "お", "てあて", "の"))
    assert [(f.first, f.last) for f in found] == [(0, 4)]


def test_a_name_said_twice_is_found_twice():
    found = SoundAlikeIndex(["いまばりし"]).find(("いま", "がり", "し", "から", "いま", "がり", "し", "へ"))
    assert [(f.first, f.last) for f in found] == [(0, 2), (4, 6)]


ENTRIES = [
    Entry("今治市", "いまばりし"),
    Entry("多伎町久村", "たきちょうくむら"),
    Entry("児童扶養手当", "じどうふようてあて"),
    Entry("八代", "やしろ"),
    Entry("山城町", "やましろちょう"),
    Entry("商工センター", "しょうこうせんたー"),
    Entry("開成町", "かいせいちょう"),
    Entry("本郷町", "ほんごうちょう"),
    Entry("三番町", "さんばんちょう"),
    Entry("中島田", "なかじまだ"),
    Entry("本郷新町", "ほんごうしんまち"),
    Entry("本郷", "ほんごう"),
    Entry("石巻市", "いしのまきし"),
    Entry("水島東川町", "みずしまひがしがわちょう"),
    Entry("湖陵町畑村", "こりょうちょうはたむら"),
]


@pytest.mark.parametrize(
    ("heard", "shown"),
    [
        ("今がり仕役所へお越しください", "今治市役所へお越しください"),
        ("タキチョークムガニおスマイの方", "多伎町久村おスマイの方"),
        ("自動工夫を手当ての届けは", "児童扶養手当の届けは"),
        ("今がり仕の方は今がり仕役所へ", "今治市の方は今治市役所へ"),
        ("石の巻きし役所の本調者で", "石巻市役所の本調者で"),
        ("相談会は水島東が超高民間で", "相談会は水島東川町高民間で"),  # 8+ kana: one may be missing
        ("相談会は頃を調波た村、高民間で", "相談会は湖陵町畑村、高民間で"),  # exact, 6 kana: may end on an auxiliary (し)
    ],
)
def test_a_name_written_as_other_words_is_corrected(heard, shown):
    correction = Corrector(ENTRIES).correct(heard)
    assert correction.text == shown
    assert "sounds like" in correction.changes[0].reason


@pytest.mark.parametrize(
    "text",
    [
        "八代地区のツルの観察会",  # no sound-alike: やしろちく is not やましろちょ
        "本郷の新町です",  # a registered word written right is never part of a loose match
        "本郷は新町です",
        "担当は中島だと思います",  # a match does not end on an auxiliary (だ)
        "地域包括支援センターで相談できます",  # しえんせんた is two kana from しょこせんた
        "市役所の開庁時間は九時からです",  # かいちょ is shorter than かいせちょ
        "市役所の本調舎で手続きができます",  # ほんちょ lacks a kana of ほんごちょ: names are not heard short
        "受付番号は3番ですので、お待ちください",  # さんばん is not さんばんちょう
    ],
)
def test_right_text_is_left_alone(text):
    assert Corrector(ENTRIES).correct(text).text == text


def test_the_rule_can_be_turned_off():
    off = Corrector(ENTRIES, DictionaryOptions(rules_off=["sound_alike"]))
    assert off.correct("今がり仕役所へお越しください").text == "今がり仕役所へお越しください"


def test_ordinary_sentences_stay_as_they_are_with_5000_words_loaded():
    entries, source = fill_entries(ENTRIES, 5000)
    assert source.startswith("postal data")  # real town names (the towns extra), not generated ones
    corrector = Corrector(entries)
    sentences = [
        "住民票の写しは一通三百円です。",
        "転出届は引っ越しの十四日前から出せます。",
        "国民健康保険の保険証を郵送しました。",
        "粗大ごみは事前に申し込みが必要です。",
        "こちらの用紙にお名前とご住所を書いてください。",
        "マイナンバーカードの暗証番号を入力してください。",
    ]
    for sentence in sentences:
        assert corrector.correct(sentence).text == sentence


MIXED = [Entry("上富井", "かみとみ"), Entry("早高", "はやたか"), Entry("出雲市", "いずもし"), Entry("長面", "ながつら"), Entry("山西", "やまにし")]


@pytest.mark.parametrize(
    ("heard", "shown"),
    [
        ("紙とみにお住まいの方の", "上富井にお住まいの方の"),  # 紙|とみに: the name ends inside a word
        ("資源ごみは、早たかと日々では", "資源ごみは、早高と日々では"),  # 早 an adjective, た an auxiliary
        ("伊ズもしの経自動車税は", "出雲市の経自動車税は"),  # 伊 and ズ tagged as symbols
        ("6月15日までに長つらのお宅へ", "6月15日までに長面のお宅へ"),  # 長 read なが, not ちょう
    ],
)
def test_a_name_written_half_in_kanji_half_in_kana_is_corrected(heard, shown):
    assert Corrector(MIXED).correct(heard).text == shown


@pytest.mark.parametrize(
    "text",
    [
        "山にしかない花です",  # a particle after a word is a particle: not 山西か
        "紙とみかんを買いました",  # かみとみかん: no name reads so
        "上富井にお住まいの方の",  # written right
    ],
)
def test_mixed_script_leaves_other_text_alone(text):
    assert Corrector(MIXED).correct(text).text == text


def test_mixed_script_can_be_turned_off():
    off = Corrector(MIXED, DictionaryOptions(rules_off=["mixed_script"]))
    assert off.correct("紙とみにお住まいの方の").text == "紙とみにお住まいの方の"


def test_mixed_script_waits_for_the_end_of_a_partial():
    """A partial's last word may still grow (紙|とみに…): a name that ends inside it waits."""
    assert Corrector(MIXED).correct("紙とみに", open_end=True).text == "紙とみに"
    assert Corrector(MIXED).correct("紙とみにお住まいの", open_end=True).text == "上富井にお住まいの"
