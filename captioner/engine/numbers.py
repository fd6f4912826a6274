"""Repairs of numbers the recognizer wrote in an impossible form; a possible one is never touched.

Whisper writes the ご of 午前/午後 as the digit 5 when a time follows: 午前十一時 comes out as
511時 or 5前11時, 午後五時 as 555時, 午後三時 as 5個3時 or 5号4時. No clock time has more than 24
hours, and no count or number (5個, 5号) runs straight into an hour, so such a time is the hour
after the 5: 5 alone or 5前 was 午前 (ごぜん, its ぜん swallowed), 55, 5後, 5個, 5号 or 5語 午後 (ごご).
A day of the month written half in digits, half in kanji (20三日) is one number (23日).
A phone number is read in groups joined by の (ゼロサンニーサンのニーイチの…): Whisper writes
them with の and some digits as words (032さんの21の499さん, 01号の728の5722, 0号3の324の9920:
さん is 3, 号 (ごう) 5). Three groups starting with 0 that make 10 or 11 digits (the length of
every Japanese phone number) are written as one, with hyphens: 0323-21-4993.
"""

from __future__ import annotations

import re

KANJI_DIGITS = "一二三四五六七八九"
# 5 (and what Whisper wrote for the rest of ごぜん/ごご), an hour 1-12, 時; no digit before: 15時 is a time
AMPM_HOUR = re.compile(r"(?<![0-9０-９])5([5後個号語前]?)(1[0-2]|[1-9])時")
# tens in digits, units in kanji, before a counter of days, months, hours or minutes
MIXED_TENS = re.compile(rf"(?<![0-9])([1-5])0([{KANJI_DIGITS}])(日|月|時|分)")
# digit words Whisper leaves in a phone number, and the digit each one is
PHONE_WORDS = {"さん": "3", "号": "5", "〇": "0"} | {kanji: str(i + 1) for i, kanji in enumerate(KANJI_DIGITS)}
_GROUP = rf"(?:[0-9]|さん|号|[〇{KANJI_DIGITS}])+"
_JOIN = r"(?:の|[-－ー‐])[、。]?"
PHONE = re.compile(rf"(?<![0-9]){_GROUP}{_JOIN}{_GROUP}{_JOIN}{_GROUP}")
MOBILE = re.compile("0[5789]0")  # 11 digits: 090-1234-5678, 050-…; every other number has 10


def repair_numbers(text: str) -> str:
    """``text`` with impossible clock times and half-kanji numbers written as meant."""
    text = AMPM_HOUR.sub(_ampm, text)
    text = MIXED_TENS.sub(lambda m: m.group(1) + str(KANJI_DIGITS.index(m.group(2)) + 1) + m.group(3), text)
    return PHONE.sub(_phone, text)


def _ampm(match: re.Match[str]) -> str:
    if match.group(0) == "55時":  # 午前五時 or 午後 with its hour lost: no way to tell
        return match.group(0)
    return ("午前" if match.group(1) in ("", "前") else "午後") + match.group(2) + "時"


def _phone(match: re.Match[str]) -> str:
    groups = [re.sub("さん|号|.", lambda m: PHONE_WORDS.get(m.group(0), m.group(0)), g) for g in re.split(_JOIN, match.group(0))]
    digits = sum(map(len, groups))
    valid = digits == 10 or digits == 11 and MOBILE.fullmatch(groups[0])
    if not valid or not groups[0].startswith("0") or not all(g.isascii() and g.isdigit() for g in groups):
        return match.group(0)
    return "-".join(groups)
