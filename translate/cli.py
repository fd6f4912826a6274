"""``captioner translate ...``: install, list, remove and download language packages (``bench``:
captioner/app/bench/cli.py)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from translate.packages import INSTALL_HINT, Package, PackageError, PackageStore

log = logging.getLogger(__name__)


def add_parser(commands: argparse._SubParsersAction, load_config: Callable[[str | None], Any]) -> argparse._SubParsersAction:
    """Add the ``translate`` command and its actions to the main parser; returns the actions, to
    which the app adds the measuring one (``bench``)."""
    translate = commands.add_parser("translate", help="translation packages: install, list, remove, download; bench")
    translate.set_defaults(load_config=load_config)
    actions = translate.add_subparsers(dest="translate_action", required=True, metavar="ACTION")

    install = actions.add_parser("install", help="install .argosmodel package files (or every one in a folder)")
    install.add_argument("files", nargs="+", metavar="FILE_OR_DIR")
    _config_option(install)
    install.set_defaults(handler=cmd_install)

    listing = actions.add_parser("list", help="installed packages, and how each configured language is reached")
    _config_option(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_list)

    remove = actions.add_parser("remove", help="remove an installed package (e.g. ja en, or ja_en)")
    remove.add_argument("pair", nargs="+", metavar="CODE")
    _config_option(remove)
    remove.set_defaults(handler=cmd_remove)

    download = actions.add_parser(
        "download", help="download packages from the Argos Translate index and install them (or keep them: --to DIR)"
    )
    download.add_argument("source", metavar="FROM", help="the captions' language (ja)")
    download.add_argument("targets", nargs="+", metavar="TO", help="languages to translate into (en vi zh ...)")
    download.add_argument("--to", metavar="DIR", help="only download the files into DIR (e.g. a USB stick), for `translate install DIR` on the counter PC")
    download.add_argument("--index", metavar="URL", help="package index (default: the public Argos index, or $CAPTIONER_ARGOS_INDEX)")
    download.add_argument("--pivot", metavar="LANG", help="pivot language when no direct package exists (default: translate.pivot)")
    download.add_argument("--timeout", type=float, default=30.0, help="network timeout in seconds (default 30)")
    _config_option(download)
    download.set_defaults(handler=cmd_download)
    return actions


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: the user's, else the shipped defaults)")


def _options(args: argparse.Namespace):
    return args.load_config(args.config).translate


def cmd_install(args: argparse.Namespace) -> int:
    options = _options(args)
    from translate.download import package_files

    store = PackageStore(options.package_dirs())
    for package in store.install_many(package_files(args.files)):  # a bad file installs none of them
        print(f"installed {package.name} ({package.from_code}→{package.to_code}) in {package.path}")
        if package.from_code == options.pivot and package.from_code != options.source:
            print(f"note: used as the second step of a pivot ({options.source}→{options.pivot}→{package.to_code})")
        elif package.from_code != options.source:
            print(
                f"note: it translates from '{package.from_code}' but captions are in '{options.source}': "
                f"it will not be used (wrong direction? captions need translate-{options.source}_XX)"
            )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from translate.translators import find_route

    options = _options(args)
    store = PackageStore(options.package_dirs())
    packages, problems = store.scan()
    routes: dict[str, str] = {}
    missing: dict[str, str] = {}
    for language in options.languages:
        try:
            routes[language] = find_route(store, options.source, language, options.pivot).describe()
        except PackageError as e:
            missing[language] = str(e)
    if args.json:
        print(json.dumps({
            "folders": [str(d) for d in store.dirs],
            "packages": [_package_json(p) for p in packages],
            "languages": {**{k: {"route": v} for k, v in routes.items()}, **{k: {"missing": v} for k, v in missing.items()}},
            "problems": problems,
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    print(f"Installed packages ({', '.join(str(d) for d in store.dirs)}):")
    for package in packages:
        origin = "" if package.origin == "captioner" else "  [argostranslate]"
        print(f"  {package.from_code}→{package.to_code}  {package.name:<24} {package.path}{origin}")
    if not packages:
        print(f"  none: {INSTALL_HINT}")
    print(f"Configured languages (captions in {options.source}):")
    for language in options.languages:
        print(f"  {language}: {routes[language]}" if language in routes else f"  {language}: MISSING — {missing[language]}")
    if not options.languages:
        print("  none (set translate.languages, e.g. [en, vi, zh], in the configuration)")
    for problem in problems:
        print(f"problem: {problem}")
    return 0


def _package_json(package: Package) -> dict:
    return {
        "from": package.from_code,
        "to": package.to_code,
        "name": package.name,
        "version": package.package_version,
        "path": str(package.path),
        "origin": package.origin,
    }


def cmd_remove(args: argparse.Namespace) -> int:
    store = PackageStore(_options(args).package_dirs())
    what = "_".join(args.pair)
    for package in store.remove(what):
        print(f"removed {package.name} ({package.path})")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from translate.download import download_packages

    options = _options(args)
    pivot = args.pivot or options.pivot
    store = None if args.to else PackageStore(options.package_dirs())
    shown: dict[str, int] = {}

    def progress(name: str, done: int, total: int) -> None:  # one line per 10 %, so a log stays short
        step = 100 * done // total // 10 if total else done >> 24
        if shown.get(name) != step:
            shown[name] = step
            size = f"{done / 2**20:.1f}/{total / 2**20:.1f} MB" if total else f"{done / 2**20:.1f} MB"
            print(f"  {name}: {size}", file=sys.stderr, flush=True)

    plan, files, installed = download_packages(
        args.source, args.targets, index_url=args.index, pivot=pivot, to=Path(args.to) if args.to else None,
        store=store, timeout=args.timeout, progress=progress,
    )  # fmt: skip
    for language, route in plan.routes.items():
        print(f"{args.source}→{language}: {route}")
    for file in files:
        print(f"downloaded and checked {file}")
    for package in installed:
        print(f"installed {package.name} ({package.from_code}→{package.to_code}) in {package.path}")
    if files:
        print(f"Carry {Path(args.to)} to the counter PC, then run there: captioner translate install {Path(args.to).name or args.to}")
    return 0
