"""The stages' measuring commands, added under their stage's command: ``captioner dict bench``,
``captioner dict ablate`` and ``captioner translate bench`` (each prints JSON)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError


def add_stage_bench_parsers(dict_actions: Any, translate_actions: Any) -> None:
    """Register the measuring actions; the stage's own parser sets ``load_config``."""
    bench = dict_actions.add_parser("bench", help="benchmark (JSON): load, build and correction time of a large dictionary")
    _config_option(bench)
    bench.add_argument("set_dir", metavar="SET_DIR", type=Path, help="an evaluation set (its dictionary.yaml and reference sentences)")
    bench.add_argument("--entries", type=int, default=5000, help="fill the set's dictionary up to this many words (default 5000)")
    bench.set_defaults(handler=cmd_dict_bench)

    ablate = dict_actions.add_parser("ablate", help="benchmark (JSON): names, false alarms and CER with each correction rule turned off")
    _config_option(ablate)
    ablate.add_argument("runs", metavar="BENCH.json", type=Path, nargs="+", help="outputs of `captioner bench SET_DIR --output FILE`")
    ablate.add_argument("--fill", type=int, default=0, metavar="N", help="top each set's words up to N entries with real town names (false alarms with a prefecture loaded)")
    ablate.set_defaults(handler=cmd_dict_ablate)

    translation = translate_actions.add_parser("bench", help="time the translation stage per caption; prints JSON")
    _config_option(translation)
    translation.add_argument(
        "--tiny", nargs="?", const="tiny", choices=["tiny", "base"], metavar="SIZE",
        help="use generated packages instead of the installed ones: tiny (one layer: measures the stage) "
        "or base (computes like a real Argos model)",
    )  # fmt: skip
    translation.add_argument("--languages", nargs="+", metavar="LANG", help="target languages (default: translate.languages, or en vi zh with --tiny)")
    translation.add_argument("--set", metavar="SET_DIR", help="evaluation set whose refs.json texts are translated (default: built-in phrases)")
    translation.add_argument("--rounds", type=int, default=2, help="passes over the texts (the 2nd and later hit the cache)")
    translation.add_argument("--output", metavar="FILE", help="also write the JSON to FILE")
    translation.set_defaults(handler=cmd_translate_bench)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: the user's, else the shipped defaults)")


def cmd_dict_bench(args: argparse.Namespace) -> int:
    from captioner.app.bench.dictionary_bench import run_dictionary_bench

    if args.entries < 1:
        raise CaptionerError(f"--entries must be at least 1, got {args.entries}")
    return _print(run_dictionary_bench(args.set_dir, args.entries, args.load_config(args.config).dictionary))


def cmd_dict_ablate(args: argparse.Namespace) -> int:
    from captioner.app.bench.ablation import run_ablation

    return _print(run_ablation(args.runs, args.load_config(args.config).dictionary, fill=args.fill))


def cmd_translate_bench(args: argparse.Namespace) -> int:
    from captioner.app.bench.translation_bench import run_translation_bench

    result = run_translation_bench(
        args.load_config(args.config).translate,
        languages=args.languages,
        tiny=args.tiny,
        set_dir=Path(args.set) if args.set else None,
        rounds=args.rounds,
    )
    return _print(result, args.output)


def _print(result: dict, output: str | None = None) -> int:
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
