"""The dictionary folder: word files loaded, checked, merged, watched and rewritten.

A folder holds YAML files (``*.yaml``/``*.yml``, each a list of entries) and CSV files
(``*.csv``, see :mod:`dictionary.csvio`). Hand-written files load first (by name), then the
imported ``towns-*.yaml`` files; entries keep their order inside a file. That order is the
precedence among homophones on equal ``priority``: the corrector can put only one surface on a
reading, so the entry with the higher priority wins, else the hand-written one, else the first.

Loading never stops on bad input: every problem is a :class:`Problem` (``file:line: message``)
and every valid entry still loads. A file that cannot be parsed at all contributes nothing on
a first load; :class:`FolderLoader` (and the watcher built on it) keeps the last good entries of
such a file, and of a single entry broken by an edit, until it is fixed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from captioner.core.errors import CaptionerError
from captioner.core.files import atomic_write
from captioner.core.text import writable
from dictionary.csvio import read_csv
from dictionary.entries import Entry, is_kana_reading, to_hiragana
from dictionary.fields import FIELDS, LANGUAGE, VALID_KEYS, FileResult, Problem, build_entry, entry_record, sort_languages
from dictionary.options import DictionaryOptions

log = logging.getLogger(__name__)

WORDS_FILE = "words.yaml"  # where the CLI adds words
TOWNS_PREFIX = "towns-"  # files written by `captioner dict import-towns` (rank below others)
YAML_SUFFIXES = (".yaml", ".yml")
WORD_SUFFIXES = (*YAML_SUFFIXES, ".csv")

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when installed


@dataclass(frozen=True)
class LoadResult:
    """The folder's entries in precedence order, and everything wrong with its files."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# ------------------------------------------------------------------------------------ YAML


def parse_yaml(path: Path, text: str | None = None) -> FileResult:
    """Parse one YAML word file (a list of mappings) with line numbers."""
    file = str(path)
    try:
        if text is None:
            text = path.read_bytes().decode("utf-8-sig")
        root = _tree(text)
    except UnicodeDecodeError as e:
        data = path.read_bytes()
        line = data[: e.start].count(b"\n") + 1
        return FileResult([], [Problem(file, line, f"not UTF-8 text: cannot decode byte 0x{data[e.start]:02x} at byte offset {e.start}")], fatal=True)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        return FileResult([], [Problem(file, mark.line + 1 if mark else 0, f"YAML syntax error: {problem}")], fatal=True)
    except OSError as e:
        return FileResult([], [Problem(file, 0, f"cannot read: {e.strerror or e}")], fatal=True)
    if root is None:
        return FileResult([], [])
    if root.kind != "seq":
        return FileResult(
            [], [Problem(file, root.line, "the file must be a list of entries, each starting with '- surface: ...'")], fatal=True
        )
    entries: list[Entry] = []
    problems: list[Problem] = []
    broken: set[str] = set()
    for item in root.value:
        if item.kind != "map":
            problems.append(Problem(file, item.line, "each entry must be a mapping like {surface: 防府市, reading: ほうふし}"))
            continue
        values: dict[str, tuple[Any, int]] = {}
        for key_node, value_node in item.value:
            key = key_node.text
            if key is None:
                problems.append(Problem(file, key_node.line, f"unknown key {_plain(key_node)!r} (valid: {VALID_KEYS})"))
            elif key in values:
                problems.append(Problem(file, key_node.line, f"duplicate key '{key}' (first at line {values[key][1]}); the first is used"))
            else:
                values[key] = (_plain(value_node), key_node.line)
        entry, entry_problems = build_entry(values, file, item.line)
        problems.extend(entry_problems)
        if entry is not None:
            entries.append(entry)
        elif isinstance(values.get("surface", (None,))[0], str):
            broken.add(values["surface"][0].strip())
    return FileResult(entries, problems, broken=frozenset(broken))


class _Node:
    """A YAML node with its line: kind "scalar" (value: the constructed value), "seq" (value:
    nodes) or "map" (value: (key, value) node pairs). ``text`` is a scalar's source text."""

    __slots__ = ("kind", "value", "line", "text")

    def __init__(self, kind: str, value: Any, line: int, text: str | None = None) -> None:
        self.kind, self.value, self.line, self.text = kind, value, line, text


def _tree(text: str) -> _Node | None:
    """The document as :class:`_Node` s, built from libyaml's parse events.

    Several times faster than ``yaml.compose`` (no node objects with two marks each, no tag
    resolution for mappings and lists), which keeps 5,000 entries well under a second.
    """
    stack: list[_Node] = []
    pending: list[_Node | None] = []  # per open mapping: its key waiting for a value
    anchors: dict[str, _Node] = {}
    root: _Node | None = None
    documents = 0
    for event in yaml.parse(text, Loader=_Loader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            node = _scalar(event)
        elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            container = _Node("seq" if kind is yaml.SequenceStartEvent else "map", [], event.start_mark.line + 1)
            if event.anchor:
                anchors[event.anchor] = container
            stack.append(container)
            pending.append(None)
            continue
        elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
            node = stack.pop()
            pending.pop()
        elif kind is yaml.AliasEvent:
            if event.anchor not in anchors:
                raise yaml.MarkedYAMLError(problem=f"undefined alias *{event.anchor}", problem_mark=event.start_mark)
            node = anchors[event.anchor]
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise yaml.MarkedYAMLError(problem="more than one document ('---') in the file", problem_mark=event.start_mark)
            continue
        else:
            continue
        if kind is yaml.ScalarEvent and event.anchor:
            anchors[event.anchor] = node
        if not stack:
            root = node
        elif stack[-1].kind == "seq":
            stack[-1].value.append(node)
        elif pending[-1] is None:
            pending[-1] = node
        else:
            stack[-1].value.append((pending[-1], node))
            pending[-1] = None
    return root


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar(event: yaml.ScalarEvent) -> _Node:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _STR
        if event.implicit[0]:
            for candidate, regexp in _Loader.yaml_implicit_resolvers.get(event.value[:1], ()):
                if regexp.match(event.value):
                    tag = candidate
                    break
    line = event.start_mark.line + 1
    if tag == _STR:
        return _Node("scalar", event.value, line, event.value)
    if tag == _NULL:
        return _Node("scalar", None, line)
    try:
        value = _CONSTRUCTOR.construct_object(yaml.ScalarNode(tag, event.value), deep=True)
    except yaml.YAMLError:
        value = event.value
    # A key written as no, yes, on, 1 ... is still a name (no = Norwegian).
    return _Node("scalar", value, line, event.value if event.implicit[0] else None)


def _plain(node: _Node) -> Any:
    if node.kind == "scalar":
        return node.value
    if node.kind == "seq":
        return [_plain(item) for item in node.value]
    return {_plain(k) if k.kind == "scalar" else repr(_plain(k)): _plain(v) for k, v in node.value}


# ----------------------------------------------------------------------------------- folder


def word_files(folder: Path) -> list[Path]:
    """The folder's word files in load order: hand-written (by name), then ``towns-*``."""
    try:
        names = [e.name for e in os.scandir(folder) if e.is_file() and is_word_file(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [folder / name for name in sorted(names, key=lambda n: (is_imported(n), n))]


def is_word_file(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(WORD_SUFFIXES)


def is_imported(name: str) -> bool:
    """Files written by ``import-towns`` rank below hand-written ones among homophones."""
    return name.startswith(TOWNS_PREFIX)


def parse_file(path: Path) -> FileResult:
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    return parse_yaml(path)


def load_word_file(path: Path) -> list[Entry]:
    """The entries of one word file (YAML or CSV); CaptionerError listing its problems (file:line)."""
    result = combine([parse_file(path)])
    if result.problems:
        raise CaptionerError("\n".join(str(p) for p in result.problems))
    return result.entries


def combine(results: Sequence[FileResult]) -> LoadResult:
    """Merge per-file results in load order; check surfaces across all files.

    The same surface twice with the same (normalized) reading is one word: aliases and
    translations are merged, the first value wins a conflict (reported). With a different
    reading the first is kept and the second reported with both places.
    """
    entries: list[Entry] = []
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for result in results:
        found = list(result.problems)
        for entry in result.entries:
            if entry.surface not in index:
                index[entry.surface] = len(entries)
                entries.append(entry)
                continue
            first = entries[index[entry.surface]]
            file, line = _split_source(entry.source)
            if first.key != entry.key:
                found.append(Problem(file, line, (
                    f"{entry.surface} is registered twice with different readings: {first.reading} at "
                    f"{first.source} and {entry.reading} here; {first.reading} is used"
                )))
                continue
            merged, conflicts = _merge(first, entry)
            entries[index[entry.surface]] = merged
            found.extend(Problem(file, line, f"{entry.surface}: {c} (also registered at {first.source})") for c in conflicts)
        problems.extend(sorted(found, key=lambda p: p.line))
    return LoadResult(entries, problems)


def _merge(first: Entry, other: Entry) -> tuple[Entry, list[str]]:
    conflicts = []
    translations = dict(first.translations)
    for code, value in other.translations.items():
        if code not in translations:
            translations[code] = value
        elif translations[code] != value:
            conflicts.append(f"{code} '{value}' differs from '{translations[code]}'; '{translations[code]}' is used")
    if first.note and other.note and first.note != other.note:
        conflicts.append(f"note '{other.note}' differs from '{first.note}'; '{first.note}' is used")
    merged = replace(
        first,
        aliases=tuple(dict.fromkeys(first.aliases + other.aliases)),
        translations=translations,
        note=first.note or other.note,
        priority=max(first.priority, other.priority),
        picture=first.picture or other.picture,
    )
    return merged, conflicts


def _split_source(source: str) -> tuple[str, int]:
    file, _, line = source.rpartition(":")
    return (file, int(line)) if line.isdigit() else (source, 0)


def homophones(entries: Sequence[Entry]) -> list[list[Entry]]:
    """Groups of different surfaces with the same normalized reading, the one used first.

    The corrector puts one surface on a reading: the highest priority, then load order
    (hand-written files before imported towns, then file and line).
    """
    groups: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: -e.priority):  # stable: load order breaks ties
        groups.setdefault(entry.key, []).append(entry)
    return [group for group in groups.values() if len(group) > 1]


@dataclass
class _FileState:
    signature: tuple[int, int, int]
    result: FileResult  # what is in use (the last good version where the file is broken)


class FolderLoader:
    """Loads a folder; called again, re-parses only the files that changed.

    A file that cannot be parsed keeps the entries of its last good version, and an entry an
    edit broke keeps its last good version, so a typo never empties the dictionary.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._files: dict[Path, _FileState] = {}

    def snapshot(self) -> dict[Path, tuple[int, int, int]]:
        """Each word file's (mtime, size, inode): what a change is detected by."""
        found = {}
        for path in word_files(self.folder):
            try:
                stat = path.stat()
            except OSError:
                continue
            found[path] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        return found

    def load(self, snapshot: dict[Path, tuple[int, int, int]] | None = None) -> LoadResult:
        snapshot = self.snapshot() if snapshot is None else snapshot
        states: dict[Path, _FileState] = {}
        for path, signature in snapshot.items():
            state = self._files.get(path)
            if state is None or state.signature != signature:
                state = _FileState(signature, self._keep_good(parse_file(path), state))
            states[path] = state
        self._files = states
        return combine([state.result for state in states.values()])

    @staticmethod
    def _keep_good(new: FileResult, old: _FileState | None) -> FileResult:
        if old is None or not old.result.entries:
            return new
        if new.fatal:
            kept = old.result.entries
            first = new.problems[0] if new.problems else Problem("", 0, "")
            note = Problem(first.file, first.line, f"its last good version ({len(kept)} entries) stays in use until this is fixed")
            return FileResult(kept, [*new.problems, note], fatal=True, broken=new.broken)
        surfaces = {e.surface for e in new.entries}
        kept = [e for e in old.result.entries if e.surface in new.broken and e.surface not in surfaces]
        if not kept:
            return new
        notes = [
            Problem(*_split_source(e.source), f"{e.surface}: its last good version ({e.reading}) stays in use until this is fixed")
            for e in kept
        ]
        return FileResult([*new.entries, *kept], [*new.problems, *notes], broken=new.broken)


def load_folder(folder: str | Path) -> LoadResult:
    """Every word file in ``folder`` (a missing folder is an empty dictionary)."""
    return FolderLoader(folder).load()


# ---------------------------------------------------------------------------------- watcher


class DictionaryWatcher:
    """Reloads the dictionary folder when a file in it changes (polls names, mtimes, sizes).

    The first load happens in the constructor (see :meth:`current`); ``on_change`` is called
    from the watcher's thread after each later reload. New problems are logged once, with
    file and line. Call :meth:`close` to stop the thread.
    """

    def __init__(self, options: DictionaryOptions, on_change: Callable[[LoadResult], None]) -> None:
        self.options = options
        self.on_change = on_change
        self._loader = FolderLoader(options.path())
        self._snapshot = self._loader.snapshot()
        self._result = self._loader.load(self._snapshot)
        self._log_problems(self._result.problems)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dictionary-watcher")
        self._thread.start()

    def current(self) -> LoadResult:
        return self._result

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> DictionaryWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.wait(self.options.reload_seconds):
            try:
                self.poll()
            except Exception:  # a bug here must not stop captions
                log.exception("dictionary reload failed; the previous words stay in use")

    def poll(self) -> bool:
        """Reload if anything changed; True when it did (the thread calls this)."""
        snapshot = self._loader.snapshot()
        if snapshot == self._snapshot:
            return False
        previous = self._result
        self._snapshot = snapshot
        self._result = self._loader.load(snapshot)
        seen = {str(p) for p in previous.problems}
        self._log_problems([p for p in self._result.problems if str(p) not in seen])
        log.info("dictionary reloaded: %d words from %s", len(self._result.entries), self._loader.folder)
        self.on_change(self._result)
        return True

    @staticmethod
    def _log_problems(problems: Iterable[Problem]) -> None:
        for problem in problems:
            log.warning("dictionary: %s", problem)


# ------------------------------------------------------------------------- rewriting files


class _Dumper(yaml.SafeDumper):
    """Block mappings, with lists inside an entry (aliases) on one line: ``aliases: [豊富市]``."""


class _Inline(list):
    pass


_Dumper.add_representer(_Inline, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))

HEADER = """\
# Dictionary words for counter captions (see the README, "Dictionary").
# Each entry: surface (as shown), reading (kana), optional aliases, translations (en, vi, ...),
# note and priority. `captioner dict add/remove/import` rewrite this file: comments are not kept.
"""


def read_records(path: Path) -> list[Any]:
    """A YAML word file as plain data, for rewriting it (a missing file is empty)."""
    if not path.exists():
        return []
    result = parse_yaml(path)
    if result.fatal:
        raise CaptionerError(f"{result.problems[0]}; fix it before the file can be changed")
    data = yaml.load(path.read_bytes().decode("utf-8-sig"), Loader=_Loader)
    return list(data or [])


def canonical(record: Any) -> Any:
    """A record in the stable key order, with a kana reading stored as hiragana."""
    if not isinstance(record, dict):
        return record
    order = [*FIELDS[:3], *sort_languages(k for k in record if isinstance(k, str) and LANGUAGE.match(k)), *FIELDS[3:]]
    out = {k: record[k] for k in order if k in record}
    out.update((k, v) for k, v in record.items() if k not in out)
    out.update((k, _Inline(v)) for k, v in out.items() if isinstance(v, list))
    if isinstance(out.get("reading"), str) and is_kana_reading(out["reading"].strip()):
        out["reading"] = to_hiragana(out["reading"].strip())
    return out


def write_records(path: Path, records: Sequence[Any], header: str = HEADER) -> None:
    """Write a word file atomically: a temporary file in the same folder, then a rename.

    A record with text that cannot be encoded (a lone surrogate, which YAML would write as an
    escape it then refuses to read) is reported and left out, so the file always loads again.
    """
    for record in records:
        if not writable(record):
            log.warning("%s: left out a word with text that cannot be saved: %r", path, surface_of(record))
    records = [r for r in records if writable(r)]
    text = header + (yaml.dump(
        [canonical(r) for r in records], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000
    ) if records else "[]\n")
    atomic_write(path, text.encode("utf-8"))




def surface_of(record: Any) -> str | None:
    value = record.get("surface") if isinstance(record, dict) else None
    return value.strip() if isinstance(value, str) else None


def upsert(records: list[Any], entry: Entry) -> tuple[str, list[str]]:
    """Add ``entry`` or update the record with its surface; ("added"|"updated"|"unchanged", changes).

    Given fields replace the old ones; aliases are added to the old ones; fields the entry
    leaves empty keep their old values.
    """
    new = entry_record(entry)
    for i, record in enumerate(records):
        if surface_of(record) != entry.surface:
            continue
        old = canonical(record)
        merged = dict(old)
        for key, value in new.items():
            if key == "aliases":
                before = old.get("aliases") if isinstance(old.get("aliases"), list) else []
                value = list(dict.fromkeys([*before, *value]))
            merged[key] = value
        merged = canonical(merged)
        changes = describe_changes(old, merged)
        if not changes:
            return "unchanged", []
        records[i] = merged
        return "updated", changes
    records.append(new)
    return "added", []


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    for key in dict.fromkeys([*new, *old]):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if before is None:
            changes.append(f"{key} {_show(after)}")
        elif after is None:
            changes.append(f"{key} {_show(before)} removed")
        else:
            changes.append(f"{key} {_show(before)} → {_show(after)}")
    return changes


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return f"'{value}'" if isinstance(value, str) else str(value)
