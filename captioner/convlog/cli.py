"""``captioner log export``: the conversation log of a date range, for a supervisor."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError


def add_parser(commands: Any, load_config: Callable[[str | None], Any]) -> None:
    """Register ``log`` and its actions; ``load_config(path)`` reads the configuration."""
    log_parser = commands.add_parser("log", help="the conversation log (conversation_log.enabled)")
    log_parser.set_defaults(load_config=load_config)
    actions = log_parser.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="final captions of a date range as JSON Lines (translations merged)")
    export.add_argument("--from", dest="start", metavar="YYYY-MM-DD", required=True, type=_date)
    export.add_argument("--to", dest="end", metavar="YYYY-MM-DD", type=_date, help="last day, inclusive (default: --from)")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--folder", metavar="PATH", help="log folder (default: conversation_log.folder of the config)")
    export.add_argument("--config", metavar="PATH", help="configuration file")
    export.set_defaults(handler=cmd_export)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from e


def cmd_export(args: argparse.Namespace) -> int:
    from captioner.convlog.log import export, log_folder

    folder = Path(args.folder) if args.folder else log_folder(args.load_config(args.config).conversation_log)
    end = args.end or args.start
    if end < args.start:
        raise CaptionerError(f"--to {end} is before --from {args.start}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            count = export(folder, args.start, end, out)
    else:
        count = export(folder, args.start, end, sys.stdout)
    print(f"{count} captions from {args.start} to {end} ({folder})", file=sys.stderr)
    return 0
