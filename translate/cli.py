"""``captioner translate ...``: install, list, remove and download language packages; bench."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from translate.packages import (
    INSTALL_HINT,
    Package,
    PackageError,
    PackageStore,
    package_file_name,
)

log = logging.getLogger(__name__)

OFFLINE_HINT = (
    "on a machine without internet, get the package file (e.g. {file} from the Argos Translate "
    "package index) and run: " + INSTALL_HINT
)


def add_parser(commands: argparse._SubParsersAction, load_config: Callable[[str | None], Any]) -> None:
    """Add the ``translate`` command and its actions to the main parser."""
    translate = commands.add_parser("translate", help="translation packages: install, list, remove, download; bench")
    translate.set_defaults(load_config=load_config)
    actions = translate.add_subparsers(dest="translate_action", required=True, metavar="ACTION")

    install = actions.add_parser("install", help="install .argosmodel package files")
    install.add_argument("files", nargs="+", metavar="FILE.argosmodel")
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

    download = actions.add_parser("download", help="download and install a package (needs internet and the [argos] extra)")
    download.add_argument("source", metavar="FROM")
    download.add_argument("target", metavar="TO")
    _config_option(download)
    download.set_defaults(handler=cmd_download)

    bench = actions.add_parser("bench", help="time the translation stage per caption; prints JSON")
    _config_option(bench)
    bench.add_argument(
        "--tiny", nargs="?", const="tiny", choices=["tiny", "base"], metavar="SIZE",
        help="use generated packages instead of the installed ones: tiny (one layer: measures the stage) "
        "or base (computes like a real Argos model)",
    )  # fmt: skip
    bench.add_argument("--languages", nargs="+", metavar="LANG", help="target languages (default: translate.languages, or en vi zh with --tiny)")
    bench.add_argument("--set", metavar="SET_DIR", help="evaluation set whose refs.json texts are translated (default: built-in phrases)")
    bench.add_argument("--rounds", type=int, default=2, help="passes over the texts (the 2nd and later hit the cache)")
    bench.add_argument("--output", metavar="FILE", help="also write the JSON to FILE")
    bench.set_defaults(handler=cmd_bench)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: the user's, else the shipped defaults)")


def _options(args: argparse.Namespace):
    return args.load_config(args.config).translate


def cmd_install(args: argparse.Namespace) -> int:
    options = _options(args)
    store = PackageStore(options.package_dirs())
    for file in args.files:
        package = store.install(file)
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
    options = _options(args)
    store = PackageStore(options.package_dirs())
    for package in download(store, args.source, args.target, pivot=options.pivot):
        print(f"installed {package.name} ({package.from_code}→{package.to_code}) in {package.path}")
    return 0


def download(store: PackageStore, source: str, target: str, pivot: str = "en") -> list[Package]:
    """Download ``source``→``target`` (or the two pivot packages) from Argos's index and install it."""
    hint = OFFLINE_HINT.format(file=package_file_name(source, target))
    try:
        from argostranslate import package as argos_package
    except ImportError as e:
        raise PackageError(
            "`captioner translate download` needs the optional argostranslate package: "
            "pip install 'counter-captions[argos]' (it pulls PyTorch, about 1-4 GB), and internet; " + hint
        ) from e
    try:
        argos_package.update_package_index()
        available = list(argos_package.get_available_packages())
    except Exception as e:  # argostranslate raises whatever urllib raises, or recurses when offline
        raise PackageError(f"cannot read the Argos Translate package index ({type(e).__name__}: {e}); {hint}") from e
    by_pair = {(p.from_code, p.to_code): p for p in available}
    if (source, target) in by_pair:
        wanted = [by_pair[source, target]]
    elif (source, pivot) in by_pair and (pivot, target) in by_pair:
        wanted = [by_pair[source, pivot], by_pair[pivot, target]]
    else:
        from_source = sorted(b for a, b in by_pair if a == source)
        raise PackageError(
            f"the Argos Translate index has no {source}→{target} package and no pivot through {pivot}"
            + (f" (from {source}: {', '.join(from_source)})" if from_source else "")
        )
    installed = []
    for available_package in wanted:
        try:
            path = available_package.download()
        except Exception as e:
            raise PackageError(f"downloading {available_package} failed ({type(e).__name__}: {e}); {hint}") from e
        if path is None:
            raise PackageError(f"the index lists no download link for {available_package}; {hint}")
        installed.append(store.install(path))
    return installed


def cmd_bench(args: argparse.Namespace) -> int:
    from translate.bench import run_translation_bench

    options = _options(args)
    result = run_translation_bench(
        options,
        languages=args.languages,
        tiny=args.tiny,
        set_dir=Path(args.set) if args.set else None,
        rounds=args.rounds,
    )
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
