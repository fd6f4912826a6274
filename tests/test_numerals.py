"""Kanji numerals as digits (captioner.core.numerals): the normalization behind cer_numbers and
number accuracy."""

import pytest

from captioner.core.numerals import numbers, to_digits, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三百円", "300円"),
        ("二〇二六年", "2026年"),
        ("十五", "15"),
        ("千二百", "1200"),
        ("一万五千円", "15000円"),
        ("二千二十六年度", "2026年度"),
        ("1万5000円", "15000円"),
        ("3千円", "3000円"),
        ("１，２００円", "1200円"),
        ("1,200円", "1200円"),
        ("１２時", "12時"),
        ("令和八年三月十五日", "令和8年3月15日"),
        ("午後五時十五分", "午後5時15分"),
        ("三時十分に", "3時10分に"),
        ("十日以内", "10日以内"),
        ("百円", "100円"),
        ("万円", "10000円"),
        ("第一会議室", "第1会議室"),
        ("二十分ほど", "20分ほど"),
        ("一人で", "1人で"),
        ("三か月", "3か月"),
        ("1ヶ月", "1か月"),
        ("三カ月", "3か月"),
        ("二箇所", "2か所"),
        ("ケ月", "ケ月"),
    ],
)
def test_kanji_numbers_become_digits(text, expected):
    assert to_digits(text) == expected


@pytest.mark.parametrize(
    "text",
    ["十分です", "一般の方", "一緒にどうぞ", "もう一度", "万が一の時", "三田と一宮", "統一された様式", "唯一の方法", "一応"],
)
def test_words_whose_numeral_is_not_a_number_stay(text):
    assert to_digits(text) == text


def test_value_of_runs():
    assert value("〇八三五") == "0835"  # positional: leading zero kept (a phone number)
    assert value("二十万") == "200000"
    assert value("一億二千万") == "120000000"
    assert value("十") == "10"


def test_numbers_are_digit_strings_in_order():
    assert numbers("午後五時十五分に、三百円") == ["5", "15", "300"]
    assert numbers("0835-22-4411") == ["0835", "22", "4411"]
    assert numbers("555時15分") == ["555", "15"]
    assert numbers("ご相談ください") == []
