"""``captioner corpus facts``: precision and recall of the fact marking (captioner.core.facts)
on the corpus references.

The truth comes from the templates, not from the marker: every date, day, year, time, amount,
phone number, floor and counter number slot of a reference sentence, and every registered word
of its split's dictionary that occurs in it. Counts and durations (3か月, 14日以内, 2通, 5人) are
not facts; marking one is a false alarm. A true span is found when a marked span covers it; a
marked span is right when it overlaps a true one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError
from captioner.core.facts import find_facts

FACT_SLOTS = {
    "date": "date", "date2": "date", "day": "date", "year": "date", "time": "time", "time2": "time",
    "amount": "amount", "phone": "phone", "floor": "place", "window": "place", "window2": "place",
}  # fmt: skip


def gold_spans(text: str, slots, words: list[str]) -> list[tuple[int, int, str]]:
    """The spans a reader should find marked: the fact slots and the registered words."""
    spans = [(start, end, FACT_SLOTS[name]) for name, start, end in slots if name in FACT_SLOTS]
    for word in sorted(words, key=len, reverse=True):
        at = text.find(word)
        while at >= 0:
            if all(at >= e or at + len(word) <= s for s, e, _ in spans):
                spans.append((at, at + len(word), "word"))
            at = text.find(word, at + len(word))
    return spans


def score(corpus: Path, split: str = "heldout", seed: int | None = None) -> dict[str, Any]:
    """Precision and recall over the references of ``corpus``'s ``split-*`` subsets (by kind)."""
    from captioner.app.bench.corpus.build import DEFAULT_SEED, plan

    folders = sorted(p for p in corpus.glob(f"{split}-*") if (p / "refs.json").is_file())
    if not folders:
        raise CaptionerError(f"no {split}-* subsets with refs.json under {corpus} (run `captioner corpus build` first)")
    sentences = {s.id: s for s in plan(DEFAULT_SEED if seed is None else seed).sentences if s.split == split}
    counts: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    skipped = 0
    for folder in folders:
        words = [e["surface"] for e in _dictionary(folder / "dictionary.yaml")]
        for ref in json.loads((folder / "refs.json").read_text(encoding="utf-8")):
            sentence = sentences.get(ref["id"])
            if sentence is None or sentence.text != ref["text"]:
                skipped += 1  # a corpus built with another seed or version
                continue
            if ref["text"] in seen:  # each sentence once
                continue
            seen.add(ref["text"])
            gold = gold_spans(ref["text"], sentence.slots, words)
            marked = find_facts(ref["text"], words)
            for start, end, kind in gold:
                found = any(f.start <= start and f.end >= end for f in marked)
                _count(counts, kind, "true", 1)
                _count(counts, kind, "found", int(found))
            for fact in marked:
                right = any(fact.start < e and fact.end > s for s, e, _ in gold)
                _count(counts, fact.kind, "marked", 1)
                _count(counts, fact.kind, "right", int(right))
    total = {key: sum(c.get(key, 0) for c in counts.values()) for key in ("true", "found", "marked", "right")}
    numbers = {key: sum(c.get(key, 0) for k, c in counts.items() if k != "word") for key in total}
    return {
        "split": split, "sentences": len(seen), "skipped": skipped,
        "all": _figures(total), "numbers": _figures(numbers),
        "by_kind": {kind: _figures(c) for kind, c in sorted(counts.items())},
    }  # fmt: skip


def _dictionary(path: Path) -> list[dict[str, str]]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")) or [] if path.is_file() else []


def _count(counts: dict[str, dict[str, int]], kind: str, key: str, n: int) -> None:
    counts.setdefault(kind, {}).setdefault(key, 0)
    counts[kind][key] += n


def _figures(c: dict[str, int]) -> dict[str, Any]:
    true, found, marked, right = (c.get(k, 0) for k in ("true", "found", "marked", "right"))
    return {
        "precision": round(right / marked, 4) if marked else None, "recall": round(found / true, 4) if true else None,
        "true": true, "found": found, "marked": marked, "false_alarms": marked - right,
    }  # fmt: skip
