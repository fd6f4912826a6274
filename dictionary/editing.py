"""Editing the dictionary folder: the one set of rules ``captioner dict`` and the admin page share.

- **search**: surface, note, aliases and translations contain the text (case-insensitive), or
  the reading contains it written in kana.
- **add**: into ``words.yaml``; an existing surface is updated in the file that holds it.
- **remove**: from every YAML file that holds the word; a word also in a CSV file is reported
  (CSV files are the admin's own and are never rewritten).
- **import a CSV**: all or nothing — any problem in the file (a bad row, an unknown column,
  an unbalanced quote) and nothing is written, every problem listed with its line. A word
  already in the folder is updated in the file that holds it (``towns-*.yaml`` included), so
  importing an exported CSV again changes nothing. Linear in the rows.
- **export**: every word of the folder as CSV (cells that a spreadsheet would run as a
  formula are quoted, see :mod:`dictionary.csvio`).

Every write is atomic (:func:`dictionary.store.write_records`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError
from captioner.core.text import writable
from dictionary.csvio import read_csv, write_csv
from dictionary.entries import Entry, to_hiragana
from dictionary.fields import Problem, entry_record
from dictionary.store import (
    WORDS_FILE,
    YAML_SUFFIXES,
    LoadResult,
    combine,
    load_folder,
    read_records,
    surface_of,
    upsert,
    word_files,
    write_records,
)


class EditRefused(CaptionerError):
    """An edit that was not made; ``problems`` lists what is wrong (file:line messages)."""

    def __init__(self, message: str, problems: Sequence[Problem | str] = (), status: int = 400) -> None:
        super().__init__(message)
        self.problems = [str(p) for p in problems]
        self.status = status


@dataclass
class ImportResult:
    """What an import did: counts by outcome and the changes made to existing words."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # the files written
    surfaces: list[str] = field(default_factory=list)  # every word of the file

    def counts(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


def matches(entry: Entry, query: str) -> bool:
    """The search rule: ``query`` in the surface, note, aliases or translations, or its kana in the reading."""
    needle = query.strip().lower()
    if not needle:
        return True
    kana = to_hiragana(needle)
    return (
        needle in entry.surface.lower()
        or (bool(kana) and kana in entry.reading)
        or needle in entry.note.lower()
        or any(needle in a.lower() for a in entry.aliases)
        or any(needle in t.lower() for t in entry.translations.values())
    )


class WordFolder:
    """The dictionary folder, edited under one lock (the admin page may serve two requests at once)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def load(self) -> LoadResult:
        return load_folder(self.folder)

    def search(self, query: str = "") -> tuple[list[Entry], LoadResult]:
        """The words matching ``query`` (all for ""), and the whole folder's load result."""
        result = self.load()
        return [e for e in result.entries if matches(e, query)], result

    def add(self, entry: Entry) -> tuple[str, list[str], Path]:
        """Add or update ``entry``: ("added" | "updated" | "unchanged", changes, the file)."""
        _check_writable(entry)
        with self._lock:
            path = self._yaml_file_with(entry.surface) or self.folder / WORDS_FILE
            records = read_records(path)
            status, changes = upsert(records, entry)
            if status != "unchanged":
                write_records(path, records)
        return status, changes, path

    def replace(self, surface: str, entry: Entry) -> Path:
        """Replace the word ``surface`` with ``entry`` (renaming it if the surface differs)."""
        _check_writable(entry)
        with self._lock:
            path = self._yaml_file_with(surface)
            if path is None:
                raise EditRefused(f"{surface} is in no YAML file of {self.folder} (words of a CSV file are edited there)", status=404)
            records = read_records(path)
            if entry.surface != surface and any(surface_of(r) == entry.surface for r in records):
                raise EditRefused(f"{entry.surface} is already registered in {path.name}")
            write_records(path, [entry_record(entry) if surface_of(r) == surface else r for r in records])
        return path

    def remove(self, surface: str) -> tuple[list[Path], list[Path]]:
        """Remove ``surface`` from every YAML file: (files changed, CSV files that still have it)."""
        surface = surface.strip()
        removed, in_csv = [], []
        with self._lock:
            for path in word_files(self.folder):
                if path.suffix.lower() not in YAML_SUFFIXES:
                    if any(e.surface == surface for e in read_csv(path).entries):
                        in_csv.append(path)
                    continue
                records = read_records(path)
                kept = [r for r in records if surface_of(r) != surface]
                if len(kept) != len(records):
                    write_records(path, kept)
                    removed.append(path)
        return removed, in_csv

    def import_csv(self, path: Path, shown: str | None = None) -> ImportResult:
        """Import a CSV file, all or nothing (see the module docstring); ``shown`` names it in messages."""
        shown = shown or str(path)
        parsed = read_csv(path)
        result = combine([parsed])
        problems = [str(p).replace(str(path), shown) for p in result.problems]
        if parsed.fatal or problems:
            raise EditRefused(f"{shown}: nothing imported ({len(problems)} problems)", problems)
        if not result.entries:
            raise EditRefused(f"{shown}: no words to import")
        outcome = ImportResult(surfaces=[e.surface for e in result.entries])
        with self._lock:
            holders = self._yaml_holders()
            by_file: dict[Path, list[Entry]] = {}
            for entry in result.entries:
                by_file.setdefault(holders.get(entry.surface, self.folder / WORDS_FILE), []).append(entry)
            for file, entries in by_file.items():
                records = read_records(file)
                index = {surface_of(r): i for i, r in enumerate(records)}
                written = False
                for entry in entries:
                    status, changes = _upsert_indexed(records, index, entry)
                    setattr(outcome, status, getattr(outcome, status) + 1)
                    if changes:
                        outcome.changes.append(f"{entry.surface}: {'; '.join(changes)}")
                    written = written or status != "unchanged"
                if written:
                    write_records(file, records)
                    outcome.files.append(file)
        return outcome

    def export_csv(self, path: Path) -> LoadResult:
        """Every word of the folder as CSV at ``path``; the folder's load result (with its problems)."""
        result = self.load()
        write_csv(path, result.entries)
        return result

    # -- internals ---------------------------------------------------------------------

    def _yaml_holders(self) -> dict[str, Path]:
        """Surface → the first YAML file that holds it (files in load order)."""
        holders: dict[str, Path] = {}
        for path in word_files(self.folder):
            if path.suffix.lower() in YAML_SUFFIXES:
                for record in read_records(path):
                    surface = surface_of(record)
                    if surface:
                        holders.setdefault(surface, path)
        return holders

    def _yaml_file_with(self, surface: str) -> Path | None:
        return self._yaml_holders().get(surface)


def _check_writable(entry: Entry) -> None:
    if not writable(entry_record(entry)):
        raise EditRefused(f"{entry.surface!r} has a character that cannot be saved (a lone surrogate); type the word again")


def _upsert_indexed(records: list[Any], index: dict[str | None, int], entry: Entry) -> tuple[str, list[str]]:
    """:func:`dictionary.store.upsert` for one record found by ``index`` (kept up to date)."""
    position = index.get(entry.surface)
    if position is None:
        index[entry.surface] = len(records)
        records.append(entry_record(entry))
        return "added", []
    one = [records[position]]
    status, changes = upsert(one, entry)
    records[position] = one[0]
    return status, changes
