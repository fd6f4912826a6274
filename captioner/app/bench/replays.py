"""Replays of an evaluation set: the same recordings again, shifted in time and quieter.

One live run of a few recordings is a noisy figure. Where the VAD cuts (30 ms frames) and so
what each decode hears depends on the audio's alignment and level: on two real recordings the
same model's CER ranged over 0.29–0.84 between copies that differ only by a few milliseconds
of leading silence or by 6 dB (docs/adaptation.md). Comparing models on one run compares that
noise. :func:`replayed_set` writes a set whose ``session.wav`` holds the original session and
``replays − 1`` copies of it, copy *k* shifted by :data:`SHIFT_STEP_S` × *k* (modulo a VAD frame)
and at every other copy half the level; utterance ids get ``~k``. ``captioner model compare
--replays N`` benchmarks every model on the same replayed set and compares them utterance by
utterance (:func:`paired`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from captioner.app.bench.corpus.effects import RATE, write_wav
from captioner.core import metrics
from captioner.core.evalset import load_references
from captioner.core.files import replacing
from captioner.engine.audio import FileSource

SHIFT_STEP_S = 0.011  # copy k starts k × this later (modulo FRAME_S): 0, 11, 22, 3, 14, 25, 6 … ms into a VAD frame
FRAME_S = 0.03
GAP_S = 1.0  # silence between two copies
QUIETER = 0.5  # every other copy at half the level (−6 dB)
SEPARATOR = "~"


def replayed_set(set_dir: Path, replays: int, out_dir: Path) -> Path:
    """Write the replayed set of ``set_dir`` into ``out_dir`` (dictionary and non-speech copied)."""
    if replays < 1:
        raise ValueError(f"replays must be 1 or more, got {replays}")
    refs = load_references(set_dir)
    session = np.concatenate(list(FileSource(set_dir / "session.wav", pace=None).blocks()))
    out_dir.mkdir(parents=True, exist_ok=True)
    ms = RATE // 1000
    session = np.concatenate([session, np.zeros(-len(session) % ms, np.float32)])  # whole milliseconds: exact times
    parts: list[np.ndarray] = []
    items: list[dict[str, Any]] = []
    offset = 0  # samples
    frame = round(FRAME_S * 1000) * ms
    for k in range(replays):
        shift = round(SHIFT_STEP_S * 1000 * k) * ms % frame
        gain = QUIETER if k % 2 else 1.0
        gap = round(GAP_S * 1000) * ms if k else 0
        lead = np.zeros(gap + (shift - offset - gap) % frame, np.float32)  # the copy starts `shift` into a frame
        offset += len(lead)
        parts += [lead, session * gain]
        for ref in refs:
            items.append({"id": f"{ref.id}{SEPARATOR}{k}", "text": ref.text, "start": round(ref.start + offset / RATE, 3),
                          "end": round(ref.end + offset / RATE, 3), **ref.extra, "replay": k, "gain": gain})  # fmt: skip
        offset += len(session)
    write_wav(out_dir / "session.wav", np.concatenate(parts))
    with replacing(out_dir / "refs.json") as tmp:
        tmp.write_text(json.dumps(items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name in ("dictionary.yaml", "nonspeech.wav"):
        if (set_dir / name).is_file():
            shutil.copyfile(set_dir / name, out_dir / name)
    return out_dir


def utterance_cers(bench: dict[str, Any]) -> dict[str, float]:
    """CER (numerals normalized) of each utterance of a ``captioner bench`` JSON, by id."""
    return {t["id"]: metrics.cer_numbers([t["ref"]], [t["hyp"]]) for t in bench.get("transcript", [])}


def paired(first: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Utterance by utterance, ``other`` against ``first``: how many better, worse, the same.

    A utterance is better when its CER is lower; the mean difference is over the utterances
    both benchmarks captioned (a missing caption counts as CER 1 in the bench's transcript).
    """
    a, b = utterance_cers(first), utterance_cers(other)
    common = sorted(set(a) & set(b))
    diffs = [b[k] - a[k] for k in common]
    better, worse = sum(d < 0 for d in diffs), sum(d > 0 for d in diffs)
    return {
        "utterances": len(common), "better": better, "worse": worse, "same": len(common) - better - worse,
        "mean_cer_diff": round(float(np.mean(diffs)), 4) if diffs else None,
    }  # fmt: skip
