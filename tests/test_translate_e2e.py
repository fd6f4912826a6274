"""Translation end to end: `captioner transcribe` with a package installed, and the benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.translate_support import make_packages
from captioner.app.bench.translation_bench import run_translation_bench
from translate.options import TranslateOptions
from translate.packages import PackageStore


@pytest.mark.model
def test_transcribe_sends_each_final_then_its_translation(tmp_path, eval_dir):
    files = make_packages(tmp_path / "files")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"translate:\n  languages: [en, vi]\n  packages_dir: {tmp_path / 'packages'}\n  argos_packages: false\n",
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}  # no dictionary folder of the machine's
    install = subprocess.run(
        [sys.executable, "-m", "captioner", "translate", "install", "--config", str(config), str(files["ja_en"]), str(files["en_vi"])],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    assert [p.pair for p in PackageStore([tmp_path / "packages"]).packages()] == ["en_vi", "ja_en"]
    result = subprocess.run(
        [sys.executable, "-m", "captioner", "transcribe", "--jsonl", "--config", str(config), str(eval_dir / "d03.wav")],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    finals = [e for e in events if e["kind"] == "final" and e["text"]]
    assert finals and not finals[0]["translations"]  # the Japanese final comes first
    update = next(e for e in events if e["translations"])
    assert update["utterance_id"] == finals[0]["utterance_id"] and update["text"] == finals[0]["text"]
    assert set(update["translations"]) == {"en", "vi"}
    assert update["details"]["translation"]["vi"]["model"] == "translate-ja_en 1.0 + translate-en_vi 1.0"
    assert events.index(update) > events.index(finals[0])


def test_translation_bench_with_tiny_packages_meets_the_overhead_target():
    result = run_translation_bench(TranslateOptions(), tiny="tiny", rounds=2)
    assert set(result["languages"]) == {"en", "vi", "zh"}
    assert "pivot through en" in result["languages"]["vi"]
    assert result["captions"] >= 10 and len(result["rounds"]) == 2
    assert result["cache"]["hits"] >= result["captions"] * 3  # the second round is all cache hits
    # Target: the stage adds at most 10 ms per caption beyond model time (measured: well under 1 ms).
    assert result["overhead_ms"]["p50"] < 10
    assert result["japanese_forward_ms"]["p95"] < 10
    assert result["problems"] == []
    assert result["examples"][0]["ja"] == result["examples"][0]["en"]  # the tiny models copy unmapped pieces


def test_translation_bench_command_writes_json(tmp_path):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "captioner", "translate", "bench", "--tiny", "--languages", "en", "vi", "--rounds", "1",
         "--output", str(output)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(output.read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == report
    assert set(report["languages"]) == {"en", "vi"} and report["rounds"][0]["model_ms"]["p50"] > 0
