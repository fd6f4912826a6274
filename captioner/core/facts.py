"""Facts that stand out in a caption: amounts, dates, times, phone numbers, counter and room
numbers, and registered words, as character spans of the text.

``find_facts("三百円を7月9日までに", ["市民課"])`` gives ``[Fact(0, 3, "amount", "300円"),
Fact(4, 8, "date", "7月9日")]``. The displays mark these spans (bold and a frame), the
resident's phone page lists them. A number is read with :mod:`captioner.core.numerals`, so
三百円 and 300円 are the same fact (``value``), and 一般 or 三田 are no numbers. Durations and
counts (14日以内, 3か月, 2通, 5人) are not marked: they are not something to remember. Pure
functions, no project imports beyond the core.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from captioner.core.numerals import is_number, to_digits

FactKind = str  # "amount" | "date" | "time" | "phone" | "place" | "word"
KINDS = ("amount", "date", "time", "phone", "place", "word")
WIDE_DIGITS = str.maketrans("０１２３４５６７８９，：－", "0123456789,:-")  # one character for one: spans stay put

_N = r"[0-9〇零一二三四五六七八九十百千万億]+(?:,[0-9]{3})*"  # a numeral run (1,200 and 千二百 alike)
_DASH = r"[-‐−ー―]"
_PATTERNS: tuple[tuple[FactKind, re.Pattern[str]], ...] = (
    ("phone", re.compile(rf"[0〇][0-9〇一二三四五六七八九]{{1,4}}{_DASH}[0-9〇一二三四五六七八九]{{1,4}}{_DASH}[0-9〇一二三四五六七八九]{{3,4}}|0[0-9]{{9,10}}")),
    ("date", re.compile(
        rf"(?:(?:令和|平成|昭和)(?:{_N}|元)年度?|{_N}年度?)?{_N}月{_N}日(?:[（(][月火水木金土日][)）])?"
        rf"|(?:令和|平成|昭和)(?:{_N}|元)年度?(?:{_N}月)?|{_N}年度(?:{_N}月)?|[0-9]{{4}}年(?:{_N}月)?"
        rf"|{_N}日(?:[（(][月火水木金土日][)）])?(?!以内|間|ほど|程度|後|前|分|以上)"
        rf"|(?<![第0-9〇零一二三四五六七八九十百千万億]){_N}月(?:上旬|中旬|下旬|末|初め)?(?!曜|額|分|[0-9〇零一二三四五六七八九十])"
    )),  # fmt: skip
    ("time", re.compile(rf"(?:午前|午後)?{_N}時(?:{_N}分|半)?|(?:午前|午後){_N}時?|[0-9]{{1,2}}:[0-5][0-9]")),
    ("amount", re.compile(rf"{_N}円")),
    ("place", re.compile(rf"(?:窓口)?{_N}番(?:窓口)?|{_N}階|{_N}号室|第{_N}(?:会議室|窓口)")),
)
_RUN = re.compile(_N)


@dataclass(frozen=True)
class Fact:
    """One span ``text[start:end]`` of a kind; ``value`` is the surface with numbers in digits."""

    start: int
    end: int
    kind: FactKind
    value: str


def find_facts(text: str, words: Iterable[str] = ()) -> list[Fact]:
    """The facts in ``text``, in order, never overlapping (registered ``words`` first, then the
    longest number facts)."""
    plain = text.translate(WIDE_DIGITS)
    taken: list[Fact] = []
    for word in sorted({w for w in words if w}, key=len, reverse=True):
        for match in re.finditer(re.escape(word), plain):
            _take(taken, Fact(match.start(), match.end(), "word", word))
    candidates = [
        Fact(m.start(), m.end(), kind, to_digits(m.group()))
        for kind, pattern in _PATTERNS
        for m in pattern.finditer(plain)
        if _numbers_are_numbers(plain, m.start(), m.end())
    ]
    for fact in sorted(candidates, key=lambda f: (f.start - f.end, f.start)):
        _take(taken, fact)
    return sorted(taken, key=lambda f: f.start)


def _numbers_are_numbers(text: str, start: int, end: int) -> bool:
    """Every numeral run in the span is read as a number (一時的 and 一般 are not)."""
    for run in _RUN.finditer(text, start, end):
        if not is_number(text, run.start(), run.end()):
            return False
    return True


def _take(taken: list[Fact], fact: Fact) -> None:
    if all(fact.end <= other.start or fact.start >= other.end for other in taken):
        taken.append(fact)
