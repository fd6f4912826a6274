"""The ``captioner model adapt`` action: arguments, the dictionary to learn, PyTorch check."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from captioner.core.errors import CaptionerError

INSTALL_HINT = (
    "`captioner model adapt` trains with PyTorch, which the default install leaves out. Install the CPU build: "
    "pip install 'counter-captions[adapt]' (in a checkout: pip install -e '.[adapt]'; see docs/adaptation.md). "
    "Captions themselves never need it."
)


def add_parser(actions) -> None:
    adapt = actions.add_parser("adapt", help="teach the speech model the registered words (needs the [adapt] extra: PyTorch)")
    adapt.add_argument("--from", dest="source", default="base", metavar="MODEL", help="model to start from (default base)")
    adapt.add_argument("--name", default="adapted", help="short name of the new model, for asr.model (default adapted)")
    adapt.add_argument("--dictionary", metavar="PATH", help="word file or folder to learn (default: the configured dictionary)")
    adapt.add_argument("--method", choices=("lora", "full"), default="lora", help="low-rank adapters (default) or the whole decoder")
    adapt.add_argument("--epochs", type=int, default=4, help="passes over the training sentences (default 4)")
    adapt.add_argument("--per-word", type=int, default=2, metavar="N", help="training sentences per registered word (default 2)")
    adapt.add_argument("--plain-share", type=float, default=0.25, metavar="F", help="share of sentences without a registered word")
    adapt.add_argument("--anchor-share", type=float, default=0.5, metavar="F",
                       help="of the sentences without a registered word, the share of everyday sentences far from the counter (default 0.5)")
    adapt.add_argument("--learning-rate", type=float, default=0.0, metavar="LR", help="default 1e-5 (full), 5e-4 (lora)")
    adapt.add_argument("--adapters", choices=("all", "text", "no-audio-keys"), default="all",
                       help="lora: which layers get adapters (text: not those that read the audio; default all)")  # fmt: skip
    adapt.add_argument("--rank", type=int, default=16, help="lora: rank of the adapters (default 16)")
    adapt.add_argument("--keep", type=float, default=1.0, metavar="W",
                       help="outside the registered words, weight of staying with the base model's choices (0..1, default 1)")  # fmt: skip
    adapt.add_argument("--force", action="store_true", help="replace an installed model of the same name")
    adapt.add_argument("--config", metavar="PATH", help="configuration file")
    adapt.set_defaults(handler=cmd_adapt)


def load_words(path: str | Path | None, config) -> tuple[list, str]:
    """The registered words (surface, reading) of a word file or folder, and where they came from."""
    from captioner.app.adapt.data import Word
    from dictionary.store import load_folder, parse_file

    folder = Path(path).expanduser() if path else config.dictionary.path()
    if not folder.exists():
        raise CaptionerError(f"{folder}: no such dictionary file or folder")
    result = parse_file(folder) if folder.is_file() else load_folder(folder)
    if result.problems:
        raise CaptionerError("the dictionary has problems; fix them first (captioner dict check): " + "; ".join(str(p) for p in result.problems[:3]))
    return [Word(e.surface, e.reading) for e in result.entries], str(folder)


def cmd_adapt(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401 (only to know it is there; the training imports it again)
    except ImportError as e:
        raise CaptionerError(INSTALL_HINT) from e
    for option, value in (("--epochs", args.epochs), ("--per-word", args.per_word), ("--rank", args.rank)):
        if value < 1:
            raise CaptionerError(f"{option} must be at least 1")
    if not 0 <= args.plain_share < 1:
        raise CaptionerError("--plain-share must be at least 0 and below 1")
    if not 0 <= args.anchor_share <= 1:
        raise CaptionerError("--anchor-share must be between 0 and 1")
    if not 0 <= args.keep <= 1:
        raise CaptionerError("--keep must be between 0 and 1")
    from captioner.app.adapt.train import AdaptOptions, adapt
    from captioner.app.config import load_config

    config = load_config(args.config)
    words, source = load_words(args.dictionary, config)
    options = AdaptOptions(method=args.method, epochs=args.epochs, per_word=args.per_word,
                           plain_share=args.plain_share, anchor_share=args.anchor_share, learning_rate=args.learning_rate, keep=args.keep,
                           adapter_parts=args.adapters, rank=args.rank)  # fmt: skip
    folder, manifest = adapt(config, words, args.name, args.source, options, dictionary_source=source, force=args.force)
    record = manifest["adapted"]
    print(json.dumps({"model": args.name, "path": str(folder), "words": len(words), "sentences": record["sentences"],
                      "minutes": record["minutes"], "peak_rss_mb": record["peak_rss_mb"]}, ensure_ascii=False))  # fmt: skip
    print(f"use it: set `asr.model: {args.name}` in the configuration, then run `captioner check`")
    return 0
