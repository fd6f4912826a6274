"""``captioner bench SET_DIR --soak HOURS``: a counter's day, compressed.

Replays the set's ``session.wav`` in a loop through one long-running pipeline (dictionary
on, as in ``captioner run``) at ``pace`` times real time, for HOURS of audio, and reports per
loop: resident memory, final-caption latency (p50/p95, in wall-clock seconds after the end
of speech: the audio clock is divided by the pace) and captions against the references.
The summary gives RSS growth, p95 latency drift (last quarter of the loops against the
first quarter) and captions lost. Events are evaluated loop by loop and dropped, so the
benchmark itself does not grow.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from captioner.app.bench.replay import load_dictionary
from captioner.app.bench.evaluation import match, summary
from captioner.app.session import CaptionSession
from captioner.core import metrics
from captioner.core.audio import SAMPLE_RATE
from captioner.core.evalset import Reference, load_references
from captioner.core.events import CaptionEvent
from captioner.engine.audio import FileSource

log = logging.getLogger(__name__)


def rss_mb() -> float:
    """Resident memory of this process now (not the peak)."""
    try:
        with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def rss_split_mb() -> dict[str, float]:
    """Resident memory by kind (Linux): ``anon`` is the process's own (heap, model, buffers);
    ``file`` is pages of mapped files, mostly the analyzer's 260 MB dictionary, which grows as
    new words are looked up, is bounded by the files' size, and is shared and reclaimable."""
    split = {}
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("RssAnon", "RssFile"):
                    split[name[3:].lower()] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return split


class LoopSource:
    """One audio file, decoded once, repeated ``loops`` times at ``pace`` × real time without drift."""

    def __init__(self, path: Path, loops: int, pace: float, block_ms: int = 30) -> None:
        self.name = f"{path} ×{loops}"
        self.audio = np.concatenate(list(FileSource(path, pace=None, block_ms=block_ms).blocks()))
        self.loops = loops
        self.pace = pace
        self.block = SAMPLE_RATE * block_ms // 1000
        self.duration = len(self.audio) / SAMPLE_RATE
        self._stop = threading.Event()
        self.on_loop: Callable[[int], None] | None = None  # called when loop k (from 1) starts

    def blocks(self) -> Iterator[np.ndarray]:
        start = time.monotonic()
        produced = 0
        for loop in range(self.loops):
            if self.on_loop is not None and loop:
                self.on_loop(loop)
            for i in range(0, len(self.audio), self.block):
                block = self.audio[i : i + self.block]
                produced += len(block)
                delay = start + produced / SAMPLE_RATE / self.pace - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                if self._stop.is_set():
                    return
                yield block

    def close(self) -> None:
        self._stop.set()


class LoopEvaluator:
    """A sink that keeps the events of the loops still running and evaluates finished ones."""

    def __init__(self, refs: list[Reference], duration: float, pace: float) -> None:
        self.refs = refs
        self.duration = duration
        self.pace = pace
        self.pending: dict[int, list[CaptionEvent]] = {}
        self.loops: list[dict[str, Any]] = []
        self.first_transcript: list[str] | None = None
        self._lock = threading.Lock()

    def __call__(self, event: CaptionEvent) -> None:
        loop = int(event.audio_start // self.duration)
        with self._lock:
            self.pending.setdefault(loop, []).append(event)

    def finish(self, loop: int, started: float) -> dict[str, Any]:
        """Evaluate loop ``loop`` (all its finals are in: called two loops later, or at the end)."""
        with self._lock:
            events = self.pending.pop(loop, [])
        offset = loop * self.duration
        refs = [Reference(r.id, r.text, r.start + offset, r.end + offset) for r in self.refs]
        matched = match(events, refs, self.pace)  # latencies: wall seconds after the speech ended
        if self.first_transcript is None:
            self.first_transcript = matched.hypotheses
        changed = sum(a != b for a, b in zip(matched.hypotheses, self.first_transcript))
        result = {
            "loop": loop + 1,
            "audio_h": round((loop + 1) * self.duration / 3600, 3),
            "wall_min": round((time.monotonic() - started) / 60, 1),
            "rss_mb": round(rss_mb(), 1),
            **{f"rss_{kind}_mb": mb for kind, mb in rss_split_mb().items()},
            "finals": sum(1 for e in events if e.is_final and not e.is_update and e.text),
            "missed_utterances": matched.missed,
            "stray_captions": len(matched.stray),
            "changed_vs_loop_1": changed,
            "final_latency_s": summary(matched.final_latency),
            "text_complete_latency_s": summary(matched.complete_latency),
            "cer": round(metrics.cer(*matched.scored(refs)), 4),
        }
        self.loops.append(result)
        return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run_soak(
    config, recognizer, set_dir: Path, hours: float, *, pace: float = 1.5, use_dictionary: bool = True,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    refs = load_references(set_dir)
    entries = load_dictionary(set_dir)
    used = entries if entries and use_dictionary else []
    source = LoopSource(set_dir / "session.wav", 1, pace, config.audio.block_ms)
    loops = max(1, round(hours * 3600 / source.duration))
    source.loops = loops
    evaluator = LoopEvaluator(refs, source.duration, pace)
    started = time.monotonic()
    baseline_rss = rss_mb()

    def on_loop(loop: int) -> None:  # loop `loop` starts: loop-2 has all its finals by now
        if loop >= 2:
            result = evaluator.finish(loop - 2, started)
            log.info("soak loop %d: %s", result["loop"], json.dumps(result, ensure_ascii=False))
            if progress is not None:
                progress(result)

    source.on_loop = on_loop
    with CaptionSession(config, recognizer, [evaluator], entries=used) as session:
        stats = session.run(source)
    for loop in sorted(evaluator.pending):
        result = evaluator.finish(loop, started)
        if progress is not None:
            progress(result)
    per_loop = sorted(evaluator.loops, key=lambda r: r["loop"])
    return {
        **(recognizer.describe() if hasattr(recognizer, "describe") else {}),
        "set": str(set_dir),
        "soak": summarize(per_loop, baseline_rss, len(refs)),
        "pace": pace,
        "loops": loops,
        "audio_h": round(stats.audio_seconds / 3600, 3),
        "wall_h": round((time.monotonic() - started) / 3600, 3),
        "decodes": stats.decodes,
        "rtf": round(sum(stats.decode_seconds.values()) / stats.audio_seconds, 3) if stats.audio_seconds else None,
        "worker_restarts": stats.worker_restarts,
        "dictionary": {"entries": len(used)} if used else None,
        "per_loop": per_loop,
    }


def summarize(per_loop: list[dict[str, Any]], baseline_rss: float, utterances: int) -> dict[str, Any]:
    """RSS growth, p95 latency drift and captions lost over the whole run."""
    quarter = max(1, len(per_loop) // 4)
    first, last = per_loop[:quarter], per_loop[-quarter:]
    p95 = lambda rows: metrics.percentile([r["final_latency_s"]["p95"] for r in rows if r["final_latency_s"]["p95"] is not None], 50)  # noqa: E731
    first_p95, last_p95 = p95(first), p95(last)
    warm_rss = per_loop[0]["rss_mb"]
    return {
        "rss_mb": {"before": round(baseline_rss, 1), "after_loop_1": warm_rss, "end": per_loop[-1]["rss_mb"],
                   "max": max(r["rss_mb"] for r in per_loop), "growth_after_loop_1": round(per_loop[-1]["rss_mb"] - warm_rss, 1),
                   **{f"{kind}_growth_after_loop_1": round(per_loop[-1][f"rss_{kind}_mb"] - per_loop[0][f"rss_{kind}_mb"], 1)
                      for kind in ("anon", "file") if f"rss_{kind}_mb" in per_loop[0]}},
        "final_latency_p95_s": {"first_quarter": _round(first_p95), "last_quarter": _round(last_p95),
                                "drift": _round((last_p95 - first_p95) / first_p95) if first_p95 and last_p95 is not None else None},
        "captions": {"expected": utterances * len(per_loop), "finals": sum(r["finals"] for r in per_loop),
                     "missed_utterances": sum(r["missed_utterances"] for r in per_loop),
                     "loops_with_a_different_transcript": sum(1 for r in per_loop if r["changed_vs_loop_1"])},
    }  # fmt: skip
