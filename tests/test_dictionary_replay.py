"""scripts/dictionary_replay.py: recorded caption events through the dictionary stage, compared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from captioner.core.events import CaptionEvent

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "dictionary_replay.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300, check=False)


def recording(tmp_path: Path) -> Path:
    set_dir = tmp_path / "set"
    set_dir.mkdir()
    (set_dir / "dictionary.yaml").write_text("- {surface: 周南市, reading: しゅうなんし}\n", encoding="utf-8")
    events = [
        CaptionEvent("partial", 1, "集南市の", 0.0, 1.0, 1.2),
        CaptionEvent("partial", 1, "集南市の窓口", 0.0, 1.5, 1.7, committed="集南市の"),
        CaptionEvent("final", 1, "集南市の窓口です", 0.0, 2.0, 2.4, committed="集南市の窓口です", corrected_text="live"),
    ]
    path = tmp_path / "set.events.jsonl"
    path.write_text("\n".join([json.dumps({"set": str(set_dir)}), *(e.to_json() for e in events)]) + "\n", encoding="utf-8")
    return path


def test_apply_corrects_every_partial_and_final_and_compare_counts_differences(tmp_path):
    events = recording(tmp_path)
    out = tmp_path / "after.jsonl"
    done = run("apply", str(events), "--out", str(out), "--only", "default", "--only", "all but kanji_readings")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    default = [r for r in rows if r["variant"] == "default"]
    assert [r["kind"] for r in default] == ["partial", "partial", "final"]
    assert default[-1]["text"] == default[-1]["committed"] == "周南市の窓口です"  # the live run's "live" is replaced
    assert [r["text"] for r in rows if r["variant"] == "all but kanji_readings"][-1] == "集南市の窓口です"
    assert "0 of 3 as in the live run" in done.stderr

    same = run("compare", str(out), str(out))
    assert same.returncode == 0 and json.loads(same.stdout)["differing"] == 0
    changed = tmp_path / "changed.jsonl"
    changed.write_text(out.read_text(encoding="utf-8").replace("周南市の窓口です", "周南市の窓口", 1), encoding="utf-8")
    differs = run("compare", str(out), str(changed))
    assert differs.returncode == 1 and json.loads(differs.stdout)["differing_finals"] == 1
