"""Word lists as CSV for Excel users: import (any common encoding, Japanese or English headers)
and export (UTF-8 with BOM, Japanese headers, so Excel opens it correctly).

The first row is the header. Columns are matched by name: 表記/見出し (surface), 読み/よみ/
読み仮名 (reading), 英語/ベトナム語/中国語/... or a language code (en, vi, pt-br), 別表記/
誤認識 (aliases, separated by ; or 、), 備考/メモ (note), 優先度 (priority). The encoding is
detected: UTF-8 (with or without BOM), else Shift_JIS (cp932, what Japanese Excel saves).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from captioner.core.text import writable
from dictionary.entries import Entry
from dictionary.fields import LANGUAGE, FileResult, Problem, build_entry, sort_languages

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {
    "英語": "en",
    "中国語": "zh",
    "中国語（簡体字）": "zh",
    "中国語(簡体字)": "zh",
    "中国語（繁体字）": "zh-hant",
    "中国語(繁体字)": "zh-hant",
    "韓国語": "ko",
    "韓国・朝鮮語": "ko",
    "ベトナム語": "vi",
    "ポルトガル語": "pt",
    "スペイン語": "es",
    "タガログ語": "tl",
    "フィリピノ語": "fil",
    "ネパール語": "ne",
    "インドネシア語": "id",
    "タイ語": "th",
    "ミャンマー語": "my",
    "フランス語": "fr",
    "ドイツ語": "de",
    "ロシア語": "ru",
}
FIELD_NAMES = {
    "表記": "surface",
    "見出し": "surface",
    "見出し語": "surface",
    "読み": "reading",
    "よみ": "reading",
    "読み仮名": "reading",
    "読みがな": "reading",
    "ふりがな": "reading",
    "フリガナ": "reading",
    "別表記": "aliases",
    "誤認識": "aliases",
    "備考": "note",
    "メモ": "note",
    "優先度": "priority",
    "絵": "picture",
    "画像": "picture",
    "surface": "surface",
    "reading": "reading",
    "aliases": "aliases",
    "alias": "aliases",
    "note": "note",
    "priority": "priority",
    "picture": "picture",
}
EXPORT_NAMES = {"surface": "表記", "reading": "読み", "aliases": "別表記", "note": "備考", "priority": "優先度", "picture": "絵"}
EXPORT_LANGUAGES = {code: name for name, code in reversed(LANGUAGE_NAMES.items())}  # first name wins
REQUIRED = ("surface", "reading")
ALIAS_SEPARATORS = re.compile(r"[;；、]")
# A cell Excel would run as a formula (= + - @, their full-width forms ＝ ＋ － ＠, which Excel
# also takes, or tab/CR before one) is written with a leading apostrophe (OWASP's advice against
# CSV injection); the reader removes exactly one such apostrophe, so an exported file imports
# unchanged (a value that starts with apostrophes and then a formula character gets one more on
# export, which the import removes again).
FORMULA_START = re.compile(r"'*[=+\-@\t\r＝＋－＠]")
QUOTED_FORMULA = re.compile(r"'+[=+\-@\t\r＝＋－＠]")
PRIORITY = re.compile(r"[+-]?[0-9]{1,9}")


def column_key(header: str) -> str | None:
    """The entry key a header cell stands for (None: not a known column)."""
    name = unicodedata.normalize("NFKC", header).strip()
    if name in FIELD_NAMES or name.lower() in FIELD_NAMES:
        return FIELD_NAMES.get(name) or FIELD_NAMES[name.lower()]
    for japanese, code in LANGUAGE_NAMES.items():
        if unicodedata.normalize("NFKC", japanese) == name:
            return code
    return name.lower() if LANGUAGE.match(name.lower()) else None


def decode(data: bytes, file: str) -> tuple[list[str], list[Problem]]:
    """The file's lines, trying UTF-8 (BOM or not) strictly, then cp932.

    A byte neither can decode is reported with its line and offset; only that line is lost
    (the encoding that got furthest decodes the rest).
    """
    attempts = []
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding).splitlines(), []
        except UnicodeDecodeError as e:
            attempts.append((e.start, encoding))
    _, encoding = max(attempts)
    lines, problems, offset = [], [], 0
    if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
        offset = 3
    raw_lines = data[offset:].split(b"\n")
    for number, raw in enumerate(raw_lines, 1):
        try:
            lines.append(raw.decode(encoding.removesuffix("-sig")).rstrip("\r"))
        except UnicodeDecodeError as e:
            bad = offset + e.start
            name = "UTF-8" if encoding.startswith("utf") else "Shift_JIS (cp932)"
            problems.append(Problem(file, number, (
                f"cannot decode byte 0x{data[bad]:02x} at byte offset {bad} (the file looks like {name}); "
                "this line is skipped — save the file as UTF-8 or Shift_JIS"
            )))
            lines.append("")
        offset += len(raw) + 1
    return lines, problems


def read_csv(path: str | Path) -> FileResult:
    """Entries from a CSV file; problems name the file and the CSV line."""
    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return FileResult([], [Problem(file, 0, f"cannot read: {e.strerror or e}")], fatal=True)
    lines, problems = decode(data, file)
    rows = csv.reader(io.StringIO("\n".join(lines) + "\n"))
    header: list[str] | None = None
    keys: list[str | None] = []
    entries: list[Entry] = []
    broken: set[str] = set()
    line_end = 0
    for row in rows:
        line, line_end = line_end + 1, rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if line_end > line and any("," in cell.partition("\n")[2] for cell in row):  # rows swallowed by an open quote
            problems.append(Problem(file, line, (
                f"a quoted cell runs from line {line} to line {line_end} and holds the rows between "
                "(a quote \" left open?); those lines are skipped"
            )))
            continue
        if header is None:
            header = row
            keys = [column_key(cell) for cell in row]
            missing = [k for k in REQUIRED if k not in keys]
            if missing:
                names = " and ".join(f"{EXPORT_NAMES[k]} ({k})" for k in missing)
                shown = ", ".join(cell.strip() for cell in row)
                problems.append(Problem(file, line, f"missing required column {names}; the header row is: {shown}"))
                return FileResult([], problems, fatal=True)
            for i, (cell, key) in enumerate(zip(row, keys)):
                if key is not None and key in keys[:i]:
                    problems.append(Problem(file, line, f"column '{cell.strip()}' appears twice; the first one is used"))
                if key is None and cell.strip():
                    problems.append(Problem(file, line, (
                        f"unknown column '{cell.strip()}' is ignored (known: 表記, 読み, 英語, ベトナム語, 中国語, "
                        "別表記, 備考, 優先度, 絵, or surface, reading, aliases, note, priority, picture, a language code)"
                    )))
            continue
        values, row_problems = _row_values(row, keys, file, line)
        problems.extend(row_problems)
        entry, entry_problems = build_entry(values, file, line)
        problems.extend(entry_problems)
        if entry is not None:
            entries.append(entry)
        elif isinstance(values.get("surface", (None,))[0], str):
            broken.add(values["surface"][0].strip())
    return FileResult(entries, problems, broken=frozenset(broken))


def _row_values(row: list[str], keys: list[str | None], file: str, line: int) -> tuple[dict[str, tuple[Any, int]], list[Problem]]:
    values: dict[str, tuple[Any, int]] = {}
    problems = []
    if len(row) > len(keys) and any(cell.strip() for cell in row[len(keys):]):
        problems.append(Problem(file, line, f"{len(row)} cells but the header has {len(keys)} columns; the extra cells are ignored"))
    for cell, key in zip(row, keys):
        cell = cell.strip()
        if QUOTED_FORMULA.match(cell):
            cell = cell[1:]  # the apostrophe export puts before a formula-like value
        if key is None or not cell or key in values:
            continue
        if key == "aliases":
            values[key] = ([a.strip() for a in ALIAS_SEPARATORS.split(cell) if a.strip()], line)
        elif key == "priority":
            number = unicodedata.normalize("NFKC", cell)
            values[key] = (int(number) if PRIORITY.fullmatch(number) else cell, line)
        else:
            values[key] = (cell, line)
    return values, problems


def write_csv(path: str | Path, entries: Sequence[Entry]) -> None:
    """All entries as CSV in UTF-8 with BOM, Japanese header names, Excel line endings."""
    from captioner.core.files import atomic_write

    languages = sort_languages(code for e in entries for code in e.translations)
    pictures = any(e.picture for e in entries)  # the 絵 column only when a word has a picture
    header = [EXPORT_NAMES["surface"], EXPORT_NAMES["reading"], *(EXPORT_LANGUAGES.get(c, c) for c in languages),
              EXPORT_NAMES["aliases"], EXPORT_NAMES["note"], EXPORT_NAMES["priority"], *([EXPORT_NAMES["picture"]] if pictures else [])]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for e in entries:
        cells = [e.surface, e.reading, *(e.translations.get(c, "") for c in languages), ";".join(e.aliases), e.note, e.priority or "", *([e.picture] if pictures else [])]
        if not writable([str(cell) for cell in cells]):  # a lone surrogate: reported, the other rows written
            log.warning("%s: left out a word with text that cannot be saved: %r", path, e.surface)
            continue
        writer.writerow([_safe_cell(str(cell)) for cell in cells])
    atomic_write(Path(path), out.getvalue().encode("utf-8-sig"))


def _safe_cell(text: str) -> str:
    """The cell with an apostrophe in front when a spreadsheet would take it for a formula."""
    return "'" + text if FORMULA_START.match(text) else text
