"""Hepburn romanization of readings (road-sign style: long vowels not marked)."""

from __future__ import annotations

import pytest
import yaml

from translate.romaji import hepburn, romanize_name


@pytest.mark.parametrize(
    "kana, romaji",
    [
        ("とくやま", "tokuyama"),
        ("おおしま", "oshima"),  # おお → o
        ("とうきょう", "tokyo"),  # おう → o, ょう → yo
        ("しゅうなんし", "shunanshi"),  # ゅう → yu
        ("ゆうき", "yuki"),
        ("にいがた", "niigata"),  # いい stays
        ("めい", "mei"),  # えい stays
        ("うっぷるい", "uppurui"),  # っ doubles
        ("まっちゃ", "matcha"),  # っ before ch → t
        ("はっとり", "hattori"),
        ("しんばし", "shimbashi"),  # ん before b → m
        ("ぐんま", "gumma"),  # ん before m → m
        ("かんぺき", "kampeki"),  # ん before p → m
        ("かんい", "kan'i"),  # ん before a vowel → n'
        ("しんよう", "shin'yo"),  # ん before y → n'
        ("ほんだ", "honda"),
        ("ちぢみ", "chijimi"),  # ぢ → ji
        ("みかづき", "mikazuki"),  # づ → zu
        ("をかし", "okashi"),  # を → o
        ("ふじ", "fuji"),
        ("じゃ", "ja"),
        ("しぇ", "she"),
        ("ホウフ", "hofu"),  # katakana
        ("ジョウホウ", "joho"),
        ("サービス", "sabisu"),  # ー not written
        ("ティー", "ti"),
        ("ファイル", "fairu"),
        ("ｶﾀｶﾅ", "katakana"),  # half width
    ],
)
def test_hepburn(kana, romaji):
    assert hepburn(kana) == romaji


def test_names_are_capitalized():
    assert romanize_name("しゅうなんし") == "Shunanshi"
    assert romanize_name("おおしま") == "Oshima"


def test_matches_the_english_place_names_of_the_dev_dictionary(eval_dir):
    """Where the dictionary's English name is just the reading, romanization must give it."""
    entries = yaml.safe_load((eval_dir / "dictionary.yaml").read_text(encoding="utf-8"))
    names = [e for e in entries if " " not in e.get("en", " ") and e["en"][:1].isupper()]
    assert len(names) >= 10
    for entry in names:
        assert romanize_name(entry["reading"]) == entry["en"], entry
