"""One entry of a word file: its fields validated into an :class:`Entry`, and what is wrong.

Shared by the YAML files and the folder (:mod:`dictionary.store`), the CSV reader
(:mod:`dictionary.csvio`), the CLI and the admin page, so all report a problem the same way
(``file:line: message``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dictionary.analyzer import has_kanji
from dictionary.entries import Entry, is_kana_reading, to_hiragana

FIELDS = ("surface", "reading", "aliases", "note", "priority")  # besides language codes
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")  # en, vi, zh, pt-br, zh-hant
MAX_WORD = 100  # characters of a surface, reading or alias (a longer one could not even be deleted by URL)
LANGUAGE_ORDER = ("en", "zh", "ko", "vi", "pt")  # first columns/keys when writing; others sorted
VALID_KEYS = "surface, reading, aliases, note, priority, picture, or a language code such as en, vi, zh, pt-br"


@dataclass(frozen=True)
class Problem:
    """Something wrong in a word file, at a line (0 = the file as a whole)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class FileResult:
    """One file parsed on its own (no cross-file checks yet)."""

    entries: list[Entry]
    problems: list[Problem]
    fatal: bool = False  # nothing in the file could be read (syntax error, bad encoding)
    broken: frozenset[str] = frozenset()  # surfaces of entries dropped for a problem


def build_entry(
    values: dict[str, tuple[Any, int]], file: str, line: int
) -> tuple[Entry | None, list[Problem]]:
    """Validate one entry's fields (``key -> (value, line)``) into an :class:`Entry`.

    Shared by the YAML files, the CSV reader and the CLI, so all report the same way.
    """
    problems: list[Problem] = []
    wrong_type: set[str] = set()

    def problem(at: int, message: str) -> None:
        problems.append(Problem(file, at, message))

    def text(key: str, name: str = "") -> str | None:
        """The stripped text of ``key``; None when missing, empty or not text (reported)."""
        value, at = values.get(key, (None, line))
        if value is not None and not isinstance(value, str):
            problem(at, f"{name}'{key}' must be text, not {value!r} (put it in quotes)")
            wrong_type.add(key)
            return None
        return value.strip() if value and value.strip() else None

    surface = text("surface")
    name = surface or "entry"
    reading = text("reading", f"{name}: ")
    note = text("note", f"{name}: ") or ""
    picture = text("picture", f"{name}: ") or ""
    translations: dict[str, str] = {}
    aliases: list[str] = []
    priority = 0
    for key, (value, at) in values.items():
        if key in ("surface", "reading", "note", "picture") or value is None:
            continue
        if key == "aliases":
            if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
                problem(at, f"{name}: 'aliases' must be a list of text like [豊富市, ほうふ市], not {value!r}")
                continue
            aliases = [a.strip() for a in value if a.strip() and a.strip() != surface]
        elif key == "priority":
            if isinstance(value, bool) or not isinstance(value, int):
                problem(at, f"{name}: 'priority' must be a whole number, not {value!r}")
                continue
            priority = value
        elif LANGUAGE.match(key):
            if not isinstance(value, str):
                problem(at, f"{name}: '{key}' must be text, not {value!r} (put it in quotes)")
            elif value.strip():
                translations[key] = value.strip()
        elif LANGUAGE.match(key.lower()):
            problem(at, f"{name}: language codes are lowercase: write '{key.lower()}', not '{key}'")
        else:
            problem(at, f"{name}: unknown key '{key}' (valid: {VALID_KEYS})")

    usable = True
    if surface is None:
        usable = False
        if "surface" not in wrong_type:
            problem(values.get("surface", (None, line))[1], "entry has no surface (the word as it is displayed)")
    reading_at = values.get("reading", (None, line))[1]
    if reading is None:
        usable = False
        if "reading" not in wrong_type:
            problem(reading_at, f"{name}: reading is empty (write it in hiragana or katakana)")
    elif not is_kana_reading(reading):
        usable = False
        bad = "".join(dict.fromkeys(c for c in to_hiragana(reading) if not is_kana_reading(c)))
        if any(has_kanji(c) for c in bad):
            kind = "kanji"
        elif any(c.isascii() and c.isalpha() for c in bad):
            kind = "Latin letters"
        else:
            kind = "other characters"
        problem(reading_at, f"{name}: reading '{reading}' must be hiragana or katakana, it has {kind} ({bad})")
    short = name if len(name) <= 20 else name[:20] + "…"
    for label, word in [("surface", surface), ("reading", reading), *(("alias", a) for a in aliases)]:
        if word is not None and len(word) > MAX_WORD:
            usable = False
            at = values.get("aliases" if label == "alias" else label, (None, line))[1]
            problem(at, f"{short}: the {label} has {len(word)} characters; a word has at most {MAX_WORD}")
    if picture:
        from dictionary.pictures import picture_problem

        trouble = picture_problem(picture)
        if trouble:
            problem(values["picture"][1], f"{name}: picture {trouble}; the word is kept without it")
            picture = ""
    if not usable:
        return None, problems
    entry = Entry(
        surface=surface,
        reading=to_hiragana(reading),
        aliases=tuple(dict.fromkeys(aliases)),
        translations=translations,
        note=note,
        priority=priority,
        source=f"{file}:{line}",
        picture=picture,
    )
    return entry, problems


def entry_record(entry: Entry) -> dict[str, Any]:
    """An entry as a YAML mapping in the stable key order, empty fields left out."""
    record: dict[str, Any] = {"surface": entry.surface, "reading": entry.reading}
    if entry.aliases:
        record["aliases"] = list(entry.aliases)
    for code in sort_languages(entry.translations):
        record[code] = entry.translations[code]
    if entry.note:
        record["note"] = entry.note
    if entry.priority:
        record["priority"] = entry.priority
    if entry.picture:
        record["picture"] = entry.picture
    return record


def sort_languages(codes: Iterable[str]) -> list[str]:
    """Language codes in the order files and CSV columns use: en, zh, ko, vi, pt, then a-z."""
    return sorted(set(codes), key=lambda c: (LANGUAGE_ORDER.index(c) if c in LANGUAGE_ORDER else len(LANGUAGE_ORDER), c))
