"""The soak benchmark's bookkeeping: loops, per-loop evaluation, RSS, drift (fake recognizer, fast pace)."""

from __future__ import annotations

import numpy as np

from captioner.app.config import Config
from captioner.app.bench.soak import LoopSource, rss_mb, rss_split_mb, run_soak, summarize
from tests.conftest import EVAL_DIR
from tests.test_recovery import FakeRecognizer


def test_loop_source_repeats_the_file_without_drift():
    source = LoopSource(EVAL_DIR / "d01.wav", loops=3, pace=1000.0)
    starts: list[int] = []
    source.on_loop = starts.append
    audio = np.concatenate(list(source.blocks()))
    assert len(audio) == 3 * len(source.audio) and starts == [1, 2]
    assert np.array_equal(audio[len(source.audio) : 2 * len(source.audio)], source.audio)


def test_soak_reports_every_loop_and_loses_no_caption():
    rows: list[dict] = []
    result = run_soak(Config(), FakeRecognizer(), EVAL_DIR, hours=4 * 90 / 3600, pace=30.0, progress=rows.append)
    assert result["loops"] == 4 and [r["loop"] for r in result["per_loop"]] == [1, 2, 3, 4]
    assert len(rows) == 4  # two loops reported while running, the last two at the end
    soak = result["soak"]
    assert soak["captions"]["missed_utterances"] == 0
    assert soak["captions"]["expected"] == 4 * 16
    assert soak["rss_mb"]["end"] > 50 and abs(soak["rss_mb"]["growth_after_loop_1"]) < 50
    assert abs(soak["rss_mb"]["anon_growth_after_loop_1"]) < 50 and "file_growth_after_loop_1" in soak["rss_mb"]
    assert all(r["final_latency_s"]["p95"] is not None for r in result["per_loop"])
    assert result["dictionary"] == {"entries": 18}


def test_summary_drift_and_growth():
    rows = [
        {"rss_mb": 400.0 + i, "final_latency_s": {"p95": 1.0 + 0.1 * (i >= 6)}, "finals": 16, "missed_utterances": 0, "changed_vs_loop_1": 0}
        for i in range(8)
    ]
    summary = summarize(rows, 200.0, 16)
    assert summary["rss_mb"]["growth_after_loop_1"] == 7.0
    assert summary["final_latency_p95_s"]["drift"] == 0.1
    assert summary["captions"] == {"expected": 128, "finals": 128, "missed_utterances": 0, "loops_with_a_different_transcript": 0}
    assert rss_mb() > 10
    split = rss_split_mb()
    assert split["anon"] > 10 and split["file"] > 1 and abs(split["anon"] + split["file"] - rss_mb()) < 5
