"""Record a live run's caption events once; replay them through the dictionary stage; compare.

Measurement tooling for refactors of the correction rules (docs/corrections.md): the
recognizer's output changes from one replay of the audio to the next, so a change to the
dictionary is compared on the same recorded events.

    python scripts/dictionary_replay.py record SET_DIR... --out DIR
        a live run of each set (as ``captioner bench``, real-time pace, the set's dictionary):
        every event to DIR/<set>.events.jsonl, the set's folder on the first line.
    python scripts/dictionary_replay.py apply DIR/*.events.jsonl --out FILE [--rules-off-each]
        each file's events through a fresh DictionaryStage with the set's dictionary (its
        corrections removed first): the corrected text of every partial and final, one JSON line
        each; with --rules-off-each also once per rule turned off and with common_readings on.
    python scripts/dictionary_replay.py sentences SET_DIR... --out FILE [--fill 5000]
        no recording needed: each reference sentence of the sets, and its kana, corrected whole
        (as a final) and every 4th prefix (as a partial) with each variant, the set's words
        topped up to ``--fill`` town names; rows as ``apply`` writes them.
    python scripts/dictionary_replay.py compare BEFORE AFTER
        counts of identical and differing events (JSON), and the first differences.
    python scripts/dictionary_replay.py score DIR/*.events.jsonl [--rules-off-each]
        the bench's figures (CER, names, false alarms) of each variant, pooled over the files:
        the rows ``captioner dict ablate`` cannot make, ``shown_names`` included (it needs the
        partials, which the bench's transcripts do not keep).

``apply`` uses only the stage's public API, so it runs on an older checkout too
(``PYTHONPATH=/path/to/checkout python scripts/dictionary_replay.py apply ...``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from captioner.core.events import CaptionEvent


def record(set_dirs: list[Path], out: Path) -> None:
    from captioner.app.bench.replay import load_dictionary, replay
    from captioner.app.config import load_config
    from captioner.engine.backends import create_recognizer

    config = load_config()
    config.web.enabled = False
    recognizer = create_recognizer(config.asr)
    out.mkdir(parents=True, exist_ok=True)
    for set_dir in set_dirs:
        events, _ = replay(config, recognizer, set_dir / "session.wav", load_dictionary(set_dir))
        lines = [json.dumps({"set": str(set_dir.resolve())}), *(e.to_json() for e in events)]
        (out / f"{set_dir.name}.events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{set_dir.name}: {len(events)} events", file=sys.stderr)


def load_events(path: Path) -> tuple[Path, list[CaptionEvent]]:
    """The set folder and the raw events (the live run's corrections removed) of a recording."""
    lines = path.read_text(encoding="utf-8").splitlines()
    set_dir = Path(json.loads(lines[0])["set"])
    events = []
    for line in lines[1:]:
        event = CaptionEvent(**json.loads(line))
        details = {k: v for k, v in event.details.items() if k != "corrections"}
        events.append(dataclasses.replace(event, corrected_text=None, corrected_committed=None, readings={}, details=details))
    return set_dir, events


def variants(rules_off_each: bool) -> dict[str, dict]:
    """Option overrides to replay with: the defaults, and optionally each rule off."""
    from dictionary import options

    names = getattr(options, "RULES", None)  # a checkout from before dictionary/rules.py
    if names is None:
        from dictionary.rules import BY_NAME as names

    found = {"default": {}}
    if rules_off_each:
        found["common_readings on"] = {"common_readings": True}
        found["fuzzy off"] = {"fuzzy": False}
        found.update({f"all but {name}": {"rules_off": [name]} for name in names})
    return found


def replayed(paths: list[Path], rules_off_each: bool, only: list[str]):
    """(set folder, variant name, the events corrected with it) for each file and variant."""
    from captioner.app.config import load_config
    from dictionary.stage import DictionaryStage
    from dictionary.store import load_word_file

    base = load_config().dictionary
    for path in paths:
        set_dir, events = load_events(path)
        entries = load_word_file(set_dir / "dictionary.yaml")
        for name, overrides in variants(rules_off_each or bool(only)).items():
            if not only or name in only:
                stage = DictionaryStage(dataclasses.replace(base, **overrides), entries)
                yield set_dir, name, [(i, stage.apply(e)) for i, e in enumerate(events) if not e.is_update]


def live_texts(path: Path) -> list[tuple[str | None, str | None]]:
    """The corrected text and committed text each event of a recording had in the live run."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return [(r["corrected_text"], r["corrected_committed"]) for r in rows]


def apply(paths: list[Path], out: Path, rules_off_each: bool, only: list[str]) -> None:
    rows = []
    live = {path.name.removesuffix(".events.jsonl"): live_texts(path) for path in paths}
    same = total = 0
    for set_dir, name, corrected in replayed(paths, rules_off_each, only):
        for index, fixed in corrected:
            if name == "default":  # the replay reproduces the live run (same stage, same events)
                total += 1
                same += live[set_dir.name][index] == (fixed.corrected_text, fixed.corrected_committed)
            rows.append({
                "set": set_dir.name, "variant": name, "index": index, "kind": fixed.kind,
                "utterance_id": fixed.utterance_id, "text": fixed.corrected_text,
                "committed": fixed.corrected_committed, "corrections": fixed.details.get("corrections", []),
                "readings": fixed.readings,
            })  # fmt: skip
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} corrected events to {out}; with the defaults {same} of {total} as in the live run", file=sys.stderr)


def sentences(set_dirs: list[Path], out: Path, fill: int) -> None:
    from captioner.core.evalset import load_references
    from dictionary.analyzer import shared_analyzer
    try:
        from captioner.app.bench.dictionary_bench import fill_entries
    except ImportError:  # a checkout from before the bench package (apply/sentences run on old code too)
        from dictionary.bench import fill_entries
    from dictionary.correct import Corrector
    from dictionary.entries import to_hiragana
    from dictionary.options import DictionaryOptions
    from dictionary.store import load_word_file

    rows = []
    for set_dir in set_dirs:
        texts = [r.text for r in load_references(set_dir)]
        texts += ["".join(to_hiragana(t.kana or t.surface) for t in shared_analyzer().tokens(text)) for text in texts]
        entries, _ = fill_entries(load_word_file(set_dir / "dictionary.yaml"), fill)
        for name, overrides in variants(True).items():
            corrector = Corrector(entries, dataclasses.replace(DictionaryOptions(), **overrides))
            for i, text in enumerate(texts):
                for end in [len(text), *range(2, len(text), 4)]:
                    fixed = corrector.correct(text[:end], open_end=end < len(text))
                    rows.append({
                        "set": set_dir.name, "variant": name, "index": f"{i}:{end}",
                        "kind": "final" if end == len(text) else "partial", "text": fixed.text, "committed": "",
                        "corrections": [c.reason for c in fixed.changes],
                    })  # fmt: skip
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} corrected texts to {out}", file=sys.stderr)


def score(paths: list[Path], rules_off_each: bool, only: list[str]) -> None:
    from captioner.app.evaluation import match
    from captioner.core import metrics
    from captioner.core.evalset import load_references
    from dictionary.store import load_word_file

    pooled: dict[str, dict[str, list]] = {}
    for set_dir, name, corrected in replayed(paths, rules_off_each, only):
        refs = load_references(set_dir)
        surfaces = [e.surface for e in load_word_file(set_dir / "dictionary.yaml")]
        texts, hypotheses = match([e for _, e in corrected], refs).scored(refs)
        row = pooled.setdefault(name, {"refs": [], "hyps": [], "terms": []})
        row["refs"] += texts
        row["hyps"] += hypotheses
        row["terms"].append(metrics.term_counts(texts, hypotheses, surfaces))
    result = {}
    for name, row in pooled.items():
        hits, occurrences, false_alarms = (sum(t[k] for t in row["terms"]) for k in range(3))
        result[name] = {"names": f"{hits}/{occurrences}", "false_alarms": false_alarms, "cer": round(metrics.cer(row["refs"], row["hyps"]), 4)}
    print(json.dumps({"files": [str(p) for p in paths], "rows": result}, ensure_ascii=False, indent=2))


def compare(before: Path, after: Path) -> int:
    def load(path: Path) -> dict[tuple, dict]:
        rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
        return {(r["set"], r["variant"], r["index"]): r for r in rows}

    old, new = load(before), load(after)
    shared = sorted(old.keys() & new.keys())
    differ = [k for k in shared if old[k] != new[k]]
    summary = {
        "events": len(shared),
        "finals": sum(1 for k in shared if old[k]["kind"] == "final"),
        "partials": sum(1 for k in shared if old[k]["kind"] == "partial"),
        "sets": sorted({k[0] for k in shared}),
        "variants": len({k[1] for k in shared}),
        "differing": len(differ),
        "differing_finals": sum(1 for k in differ if old[k]["kind"] == "final"),
        "differing_text": sum(1 for k in differ if (old[k]["text"], old[k]["committed"]) != (new[k]["text"], new[k]["committed"])),
        "only_before": len(old.keys() - new.keys()),
        "only_after": len(new.keys() - old.keys()),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    for key in differ[:10]:
        print(json.dumps({"key": key, "before": old[key], "after": new[key]}, ensure_ascii=False), file=sys.stderr)
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record")
    rec.add_argument("set_dirs", nargs="+", type=Path)
    rec.add_argument("--out", type=Path, required=True)
    app = commands.add_parser("apply")
    app.add_argument("paths", nargs="+", type=Path)
    app.add_argument("--out", type=Path, required=True)
    app.add_argument("--rules-off-each", action="store_true")
    app.add_argument("--only", action="append", default=[], help="only this variant (repeatable)")
    sen = commands.add_parser("sentences")
    sen.add_argument("set_dirs", nargs="+", type=Path)
    sen.add_argument("--out", type=Path, required=True)
    sen.add_argument("--fill", type=int, default=5000, help="top the words up to this many town names")
    sco = commands.add_parser("score")
    sco.add_argument("paths", nargs="+", type=Path)
    sco.add_argument("--rules-off-each", action="store_true")
    sco.add_argument("--only", action="append", default=[], help="only this variant (repeatable)")
    cmp = commands.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.set_dirs, args.out)
        return 0
    if args.command == "apply":
        apply(args.paths, args.out, args.rules_off_each, args.only)
        return 0
    if args.command == "sentences":
        sentences(args.set_dirs, args.out, args.fill)
        return 0
    if args.command == "score":
        score(args.paths, args.rules_off_each, args.only)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
