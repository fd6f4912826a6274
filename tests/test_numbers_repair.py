"""Impossible numbers the recognizer writes are repaired; possible ones never change."""

import pytest

from captioner.engine.numbers import repair_numbers


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("511時20分からの説明会", "午前11時20分からの説明会"),  # 午前十一時: ご as 5, ぜん lost
        ("555時15分までです", "午後5時15分までです"),  # 午後五時: ごご as 55
        ("火の出の時刻は553時10分ごろ", "火の出の時刻は午後3時10分ごろ"),
        ("受付は59時からです", "受付は午前9時からです"),
        ("5前11時30分までになります", "午前11時30分までになります"),
        ("開庁時間は5個3時から5個3時15分までです", "開庁時間は午後3時から午後3時15分までです"),
        ("9番窓口で5号4時10分まで", "9番窓口で午後4時10分まで"),
        ("5月20三日に行います", "5月23日に行います"),
        ("10五分ほどお待ちください", "15分ほどお待ちください"),
        # phone numbers read in groups joined by の, some digits written as words
        ("電話は032さんの21の499さんです", "電話は0323-21-4993です"),
        ("電話は01号の728の5722です。", "電話は015-728-5722です。"),
        ("電話が0号3の324の9920です。", "電話が053-324-9920です。"),
        ("環境課064の668の7241へ", "環境課064-668-7241へ"),
        ("携帯は090の1234の5678です", "携帯は090-1234-5678です"),
        ("〇三の一二三四の五六七八まで", "03-1234-5678まで"),
    ],
)
def test_impossible_numbers_are_repaired(heard, meant):
    assert repair_numbers(heard) == meant


@pytest.mark.parametrize(
    "text",
    ["午前11時20分", "15時30分", "5時です", "21時まで", "55時", "電話は0736-51-1286です", "1511時間", "2026年5月20日", "203号室", "三十一日", "5個の3時", "5号室、4時から", "5前後",
     "1の2の3です", "3の1の2番窓口", "064の668の724です", "0120の123の45678です", "012の3456の78901です", "三の一の二"],
)
def test_possible_numbers_never_change(text):
    assert repair_numbers(text) == text
