"""Repairs of numbers the recognizer wrote in an impossible form; a possible one is never touched.

Whisper writes the ご of 午前/午後 as the digit 5 when a time follows: 午前十一時 comes out as
511時, 午後五時 as 555時. No clock time has more than 24 hours, so such a time is the hour
after one or two 5s: ``5`` before it was 午前 (ごぜん, its ぜん swallowed), ``55`` 午後 (ごご).
A day of the month written half in digits, half in kanji (20三日) is one number (23日).
"""

from __future__ import annotations

import re

KANJI_DIGITS = "一二三四五六七八九"
# 5 or 55, then an hour 1-12, before 時 (and no digit before: 15時 is a time)
AMPM_HOUR = re.compile(r"(?<![0-9０-９])(55|5)(1[0-2]|[1-9])時")
# tens in digits, units in kanji, before a counter of days, months, hours or minutes
MIXED_TENS = re.compile(rf"(?<![0-9])([1-5])0([{KANJI_DIGITS}])(日|月|時|分)")


def repair_numbers(text: str) -> str:
    """``text`` with impossible clock times and half-kanji numbers written as meant."""
    text = AMPM_HOUR.sub(_ampm, text)
    return MIXED_TENS.sub(lambda m: m.group(1) + str(KANJI_DIGITS.index(m.group(2)) + 1) + m.group(3), text)


def _ampm(match: re.Match[str]) -> str:
    if match.group(0) == "55時":  # 午前五時 or 午後 with its hour lost: no way to tell
        return match.group(0)
    return ("午後" if match.group(1) == "55" else "午前") + match.group(2) + "時"
