"""The stages' measuring commands, added under their stage's command: ``captioner dict bench``,
``captioner dict ablate`` and ``captioner translate bench``; and ``captioner bench-web`` (each
prints JSON)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError


def add_stage_bench_parsers(commands: Any, dict_actions: Any, translate_actions: Any) -> None:
    """Register the measuring actions; the stage's own parser sets ``load_config``."""
    bench = commands.add_parser("bench-web", help="benchmark the browser viewer on loopback; prints JSON")
    bench.add_argument("--viewers", type=int, default=20, help="simultaneous viewers (default 20)")
    bench.add_argument("--events", type=int, default=200, help="caption events pushed per run (default 200)")
    bench.add_argument("--rate", type=float, default=10.0, help="events per second (default 10)")
    bench.add_argument("--cycles", type=int, default=1000, help="connect/disconnect cycles for the memory check")
    bench.add_argument("--output", metavar="FILE", help="also write the JSON to FILE")
    bench.add_argument("--conversation", action="store_true",
                       help="measure a resident's reply → the clerk's screen instead (--viewers tablets connected)")
    bench.add_argument("--replies", type=int, default=100, help="--conversation: replies posted (default 100)")
    bench.add_argument("--browser", action="store_true", help="--conversation: also time the clerk page in headless Chromium")
    bench.set_defaults(handler=cmd_bench_web)

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


def cmd_bench_web(args: argparse.Namespace) -> int:
    from captioner.app.bench.web_bench import run_bench

    if not 1 <= args.viewers <= 200 or not 1 <= args.events <= 100_000 or not 0 <= args.cycles <= 100_000:
        raise CaptionerError("viewers 1-200, events 1-100000, cycles 0-100000")
    if args.conversation:
        from captioner.app.bench.conversation_bench import run_conversation_bench

        if not 1 <= args.replies <= 10_000 or not 0.1 <= args.rate <= 100:
            raise CaptionerError("replies 1-10000, rate 0.1-100 per second")
        result = run_conversation_bench(viewers=args.viewers, replies=args.replies, rate=args.rate, browser=args.browser)
    else:
        result = run_bench(viewers=args.viewers, events=args.events, rate=args.rate, cycles=args.cycles)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
