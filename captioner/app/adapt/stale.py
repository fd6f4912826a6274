"""Which dictionary an adapted model learned, and whether the dictionary changed since.

The manifest of an adapted model (``manifest.json`` → ``adapted``) records the registered
words (surface and reading) it was trained on and their fingerprint; ``captioner check`` and
the admin page compare that with the dictionary in use. No PyTorch here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of the sorted (surface, reading) pairs: the dictionary version a model learned."""
    data = json.dumps(sorted(set(pairs)), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def adapted_record(words, *, source: str, base: str, method: str, sentences: int, epochs: int) -> dict:
    """The ``adapted`` part of the manifest."""
    pairs = sorted({(w.surface, w.reading) for w in words})
    return {
        "from": base, "method": method, "sentences": sentences, "epochs": epochs,
        "trained": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dictionary": {"source": source, "fingerprint": fingerprint(pairs), "words": [list(p) for p in pairs]},
    }  # fmt: skip


def read_adapted(folder: Path) -> dict | None:
    """The ``adapted`` record of a model folder's manifest, or None (not an adapted model)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    record = manifest.get("adapted") if isinstance(manifest, dict) else None
    return record if isinstance(record, dict) and isinstance(record.get("dictionary"), dict) else None


def staleness(record: dict, entries: Iterable) -> str | None:
    """None when the model learned the dictionary in use; else what changed since, in words."""
    current = {(e.surface, e.reading) for e in entries}
    if fingerprint(current) == record["dictionary"].get("fingerprint"):
        return None
    learned = {tuple(p) for p in record["dictionary"].get("words", [])}
    learned_surfaces = {s for s, _ in learned}
    added = sorted(s for s, _ in current - learned if s not in learned_surfaces)
    changed = sorted(s for s, _ in current - learned if s in learned_surfaces)
    removed = sorted(s for s, _ in learned if s not in {c for c, _ in current})
    parts = [f"{len(added)} added ({'、'.join(added[:3])}{'…' if len(added) > 3 else ''})" if added else "",
             f"{len(changed)} with a new reading ({'、'.join(changed[:3])})" if changed else "",
             f"{len(removed)} removed" if removed else ""]  # fmt: skip
    trained = record.get("trained", "?")
    return f"older than the dictionary (trained {trained}; since then {', '.join(p for p in parts if p)})"
