"""Kanji numerals as digits, so a number is compared by its value, not by how it is written.

``to_digits("午後五時十五分、三百円")`` gives ``"午後5時15分、300円"``. Used by the evaluation
metrics (``cer_numbers``, ``number_accuracy``): 三百円 and 300円 are the same fact, 555時 and
五時 are not. Pure functions, no project imports.

Rules:

- NFKC first (full-width digits become ASCII); a comma between digits is dropped (1,200 → 1200);
- a run of numeral characters (〇零一二三四五六七八九十百千万億兆 and ASCII digits) is read as
  one number: positional digits (二〇二六 → 2026, 〇八三五 → 0835, leading zeros kept) or with
  multipliers (千二百 → 1200, 一万五千 → 15000, 1万5000 → 15000, 3千 → 3000);
- a run of one kanji only (一, 十, 千 …) is a number only when a counter or unit follows (円, 時,
  人, 月 …) or 第 precedes it: 三田 and 一宮 stay as they are;
- the counter after a number is written one way: 3ヶ月, 3カ月, 三箇月 → 3か月;
- words whose numeral is not a number stay as written: 一般, 一緒, 統一, 万一, 十分 (enough;
  but 三時十分 is 3時10分) …; era names stay: 令和八年 → 令和8年.
"""

from __future__ import annotations

import re
import unicodedata

KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}
NUMERAL_CHARS = "".join(KANJI_DIGITS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS) + "0123456789"
RUN = re.compile(f"[{NUMERAL_CHARS}]+")
DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3})")
DIGITS = re.compile(r"\d+")
# after a number, ヶ月 / ケ月 / カ月 / ヵ月 / 箇月 (and 所, 国, 年) are one counter written several ways
SMALL_KA = re.compile(r"(?<=\d)[ヶケカヵ箇](?=[月所国年])")

# What may follow a lone kanji numeral for it to be a number (a counter or a unit).
COUNTERS = (
    "円", "年", "月", "日", "時", "分", "秒", "階", "番", "号", "人", "件", "枚", "歳", "才", "回", "個",
    "つ", "通", "冊", "か月", "ヶ月", "カ月", "ケ月", "ヵ月", "箇月", "か所", "ヶ所", "カ所", "ケ所", "ヵ所", "箇所", "か国", "ヶ国", "週", "名", "点", "割", "本", "台", "倍",
    "桁", "丁目", "度目", "部屋", "世帯", "軒", "社", "学期", "年生", "級", "種類", "歩", "キロ", "メートル",
    "センチ", "グラム", "パーセント", "%", "万", "億",
)  # fmt: skip
# Words in which a numeral character is not a number (kept as written on both sides).
LEXICAL = (
    "一般", "一緒", "統一", "唯一", "万一", "一応", "一旦", "一体", "一生", "一方", "一定", "一括", "一覧",
    "一部", "一度", "一切", "同一", "均一", "一連", "一環", "一言", "一員", "一斉", "一層", "一向", "一段",
    "一式", "一昨", "一時的", "一人暮らし", "一人ひとり", "一人一人", "一人親", "千葉", "万全", "八百屋",
    "四角", "三角", "一気", "一見", "一流", "不二", "無二", "十分", "百貨", "万が一", "一通り",
    "四季", "七夕", "二人三脚", "一休み", "一息", "一致", "一律", "一帯", "一面", "一目",
)  # fmt: skip
JUNIBUN_AFTER_HOUR = re.compile(r"時$")


def to_digits(text: str) -> str:
    """``text`` with every kanji numeral that is a number written in ASCII digits (see the module)."""
    text = DIGIT_COMMA.sub("", unicodedata.normalize("NFKC", text))
    out: list[str] = []
    position = 0
    for match in RUN.finditer(text):
        start, end = match.span()
        out.append(text[position:start])
        out.append(_convert_run(text, start, end))
        position = end
    out.append(text[position:])
    return SMALL_KA.sub("か", "".join(out))


def numbers(text: str) -> list[str]:
    """The numbers in ``text`` as digit strings, in order (after ``to_digits``).

    Digits joined by a comma are one number (1,200); anything else separates them, so
    0835-22-4411 is three numbers and 3時15分 two. Leading zeros are kept (a phone number's 0).
    """
    return DIGITS.findall(to_digits(text))


def value(run: str) -> str:
    """The digits of one numeral run (``"千二百"`` → ``"1200"``, ``"〇八三五"`` → ``"0835"``)."""
    if all(c in KANJI_DIGITS or c.isdigit() for c in run):  # positional: keep leading zeros
        return "".join(str(KANJI_DIGITS[c]) if c in KANJI_DIGITS else c for c in run)
    total = section = 0
    current: int | None = None
    digits = ""  # consecutive positional digits (二〇 in 二〇万 is 20)
    for c in run:
        if c in KANJI_DIGITS or c.isdigit():
            digits += str(KANJI_DIGITS[c]) if c in KANJI_DIGITS else c
            current = int(digits)
            continue
        digits = ""
        if c in SMALL_UNITS:
            section += (1 if current is None else current) * SMALL_UNITS[c]
        else:  # a big unit
            section += 0 if current is None else current
            total += (section or 1) * BIG_UNITS[c]
            section = 0
        current = None
    return str(total + section + (current or 0))


def is_number(text: str, start: int, end: int) -> bool:
    """True when the numeral run ``text[start:end]`` is read as a number (not 一般, 十分, 三田 …)."""
    run = text[start:end].replace(",", "")
    if all(c.isdigit() and c.isascii() for c in run):
        return True
    if _lexical(text, start, end):
        return False
    kanji_only = not any(c.isascii() for c in run)
    return not (kanji_only and len(run) == 1 and not (_counter_follows(text, end) or text[max(0, start - 1) : start] == "第"))


def _convert_run(text: str, start: int, end: int) -> str:
    run = text[start:end]
    if all(c.isdigit() and c.isascii() for c in run) or not is_number(text, start, end):
        return run
    return value(run)


def _lexical(text: str, start: int, end: int) -> bool:
    """True when the run is part of a word whose numeral is not a number (一般, 十分 …)."""
    for word in LEXICAL:
        for offset in range(len(word)):
            if text.startswith(word, start - offset) and start - offset >= 0:
                if word == "十分" and JUNIBUN_AFTER_HOUR.search(text[: start - offset]):
                    continue  # 三時十分: ten past three
                return True
    return False


def _counter_follows(text: str, end: int) -> bool:
    return any(text.startswith(counter, end) for counter in COUNTERS)
