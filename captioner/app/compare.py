"""``captioner model compare SET_DIR``: the benchmark of each installed model on a city's own recordings.

A city records 20–50 utterances at its counter and types what was said, in the evaluation
format (:mod:`captioner.core.evalset`). Each model is measured by ``captioner bench`` in a
child process of its own (its peak memory is its own, and a model that crashes its runtime
stops only its row), with the configuration in use and only ``asr.backend``/``asr.model``
changed. One table (or JSON) compares them.

A live run of a few recordings is a noisy figure (where the VAD cuts depends on a few
milliseconds of alignment), so each model runs on ``--replays`` copies of the set, shifted and
quieter (:mod:`captioner.app.bench.replays`), and every model after the first is compared with
it utterance by utterance: how many utterances it captions better and worse.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from captioner.app.bench.replays import paired, replayed_set
from captioner.core.errors import CaptionerError, ModelError

BENCH_TIMEOUT_S = 3600
COLUMNS = (  # (heading, key in the row, format)
    ("model", "model", "{}"),
    ("backend", "backend", "{}"),
    ("CER", "cer", "{:.1%}"),
    ("CER num.", "cer_numbers", "{:.1%}"),
    ("names", "names_right", "{}"),
    ("numbers", "numbers_right", "{}"),
    ("final p50", "final_p50_s", "{:.2f} s"),
    ("final p95", "final_p95_s", "{:.2f} s"),
    ("1st partial", "first_partial_p50_s", "{:.2f} s"),
    ("CPU cores", "cpu_cores_avg", "{:.2f}"),
    ("RTF", "rtf", "{:.3f}"),
    ("peak RSS", "peak_rss_mb", "{:.0f} MB"),
    ("non-speech", "nonspeech_captions", "{}"),
    ("vs 1st: better/worse", "better_worse", "{}"),
)
DEFAULT_REPLAYS = 3


def add_parser(actions) -> None:
    compare = actions.add_parser("compare", help="benchmark installed models on an evaluation set (your own recordings) and print one table")
    compare.add_argument("set_dir", metavar="SET_DIR", type=Path, help="an evaluation set: session.wav, refs.json (dictionary.yaml, nonspeech.wav)")
    compare.add_argument("--models", metavar="A,B,...", help="installed model names or folders (default: every installed model)")
    compare.add_argument("--config", metavar="PATH", help="configuration file the benchmark runs with (asr.backend/model are set per model)")
    compare.add_argument("--no-nonspeech", action="store_true", help="skip the non-speech replay of each model")
    compare.add_argument("--replays", type=int, default=DEFAULT_REPLAYS, metavar="N",
                         help=f"run each model on N copies of the set, shifted and quieter, for a steadier figure (default {DEFAULT_REPLAYS})")
    compare.add_argument("--json", action="store_true", help="print JSON instead of the table")
    compare.add_argument("--output", metavar="FILE", help="also write the JSON (with every model's full benchmark) to FILE")
    compare.set_defaults(handler=cmd_compare)


def chosen_models(names: str | None) -> list[tuple[str, str]]:
    """(model, backend) for each name: installed models by name, folders by what they hold."""
    from captioner.app.models import backend_of, installed_models

    installed = {m.name: m for m in installed_models()}
    if not names:
        return [(m.name, m.backend) for m in installed.values() if m.ok]
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name in installed:
            chosen.append((name, installed[name].backend))
        elif Path(name).expanduser().is_dir():
            chosen.append((str(Path(name).expanduser().resolve()), backend_of(Path(name).expanduser())))
        else:
            raise ModelError(f"--models: no installed model or folder named {name!r} (installed: {', '.join(installed) or 'none'})")
    if not chosen:
        raise CaptionerError("--models: no model named")
    return chosen


def bench_model(model: str, backend: str, set_dir: Path, config: str | None, nonspeech: bool) -> dict[str, Any]:
    """Run ``captioner bench`` for one model in a child process; its JSON, or {"error": ...}."""
    from captioner.app.config import user_config_path

    base = Path(config) if config else user_config_path()
    settings = yaml.safe_load(base.read_text(encoding="utf-8")) if base.is_file() else {}
    settings = settings if isinstance(settings, dict) else {}
    settings.setdefault("asr", {}).update({"backend": backend, "model": model})
    with tempfile.TemporaryDirectory(prefix="captioner-compare-") as tmp:
        config_file, output = Path(tmp) / "config.yaml", Path(tmp) / "bench.json"
        config_file.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        command = [sys.executable, "-m", "captioner", "bench", str(set_dir), "--config", str(config_file), "--output", str(output)]
        if not nonspeech:
            command.append("--no-nonspeech")
        done = subprocess.run(command, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
        if done.returncode != 0 or not output.is_file():
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            return {"error": (lines[-1] if lines else f"exit {done.returncode}").removeprefix("captioner: error: ")}
        return json.loads(output.read_text(encoding="utf-8"))


def row_of(model: str, backend: str, bench: dict[str, Any]) -> dict[str, Any]:
    """The compared figures of one benchmark (see :data:`COLUMNS`)."""
    row: dict[str, Any] = {"model": Path(model).name if "/" in model else model, "backend": backend}
    if "error" in bench:
        return {**row, "error": bench["error"]}
    final, first = bench.get("final_latency_s") or {}, bench.get("first_partial_latency_s") or {}
    row.update({
        "cer": bench.get("cer"), "cer_numbers": bench.get("cer_numbers"),
        "names_right": bench.get("term_hits"), "numbers_right": bench.get("numbers_right"),
        "final_p50_s": final.get("p50"), "final_p95_s": final.get("p95"), "first_partial_p50_s": first.get("p50"),
        "cpu_cores_avg": bench.get("cpu_cores_avg"), "rtf": bench.get("rtf"), "peak_rss_mb": bench.get("peak_rss_mb"),
        "nonspeech_captions": bench.get("nonspeech_captions"),
    })  # fmt: skip
    return row


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table (a failed model's row says why)."""
    cells = [[heading for heading, _, _ in COLUMNS]]
    for row in rows:
        if "error" in row:
            cells.append([row["model"], row["backend"], f"failed: {row['error']}"])
            continue
        cells.append([form.format(row[key]) if row.get(key) is not None else "–" for _, key, form in COLUMNS])
    widths = [max(len(r[i]) for r in cells if i < len(r) and len(r) == len(COLUMNS)) for i in range(len(COLUMNS))]
    lines = []
    for r in cells:
        if len(r) < len(COLUMNS):
            lines.append("  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2]]))
        else:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    if not (args.set_dir / "session.wav").is_file():
        raise CaptionerError(f"{args.set_dir}: not an evaluation set (no session.wav)")
    if args.replays < 1:
        raise CaptionerError("--replays must be 1 or more")
    models = chosen_models(args.models)
    rows, benches = [], {}
    with tempfile.TemporaryDirectory(prefix="captioner-replays-") as tmp:
        set_dir = args.set_dir if args.replays == 1 else replayed_set(args.set_dir, args.replays, Path(tmp))
        for model, backend in models:
            print(f"benchmarking {model} ({backend}) on {args.set_dir} ({args.replays} replays) ...", file=sys.stderr, flush=True)
            bench = bench_model(model, backend, set_dir, args.config, nonspeech=not args.no_nonspeech)
            benches[model] = bench
            rows.append(row_of(model, backend, bench))
    first = benches[models[0][0]]
    for row, (model, _) in zip(rows[1:], models[1:]):
        if "error" not in row and "error" not in first:
            row["paired"] = paired(first, benches[model])
            row["better_worse"] = f"{row['paired']['better']} / {row['paired']['worse']}"
    result = {"set": str(args.set_dir), "replays": args.replays, "models": rows}
    if args.output:
        Path(args.output).write_text(json.dumps({**result, "benches": benches}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else table(rows))
    return 1 if any("error" in row for row in rows) else 0
