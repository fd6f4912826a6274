"""`captioner dict ablate`: each correction rule's worth, from bench outputs, with the real analyzer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from captioner.app.bench.ablation import run_ablation
from dictionary.correct import Corrector
from dictionary.entries import Entry
from dictionary.options import DictionaryOptions
from dictionary.rules import NEEDS_PARTIALS, RULES


def make_run(tmp_path):
    set_dir = tmp_path / "set"
    set_dir.mkdir()
    (set_dir / "dictionary.yaml").write_text(
        "- {surface: 周南市, reading: しゅうなんし}\n- {surface: 須々万, reading: すすま}\n- {surface: 福川, reading: ふくがわ}\n",
        encoding="utf-8",
    )
    refs = [
        {"id": "h1", "text": "周南市の窓口です。", "start": 0.5, "end": 2.0, "kind": "counter"},
        {"id": "h2", "text": "須々万の方はこちらです。", "start": 3.0, "end": 5.0, "kind": "counter"},
        {"id": "h3", "text": "書類は郵送します。", "start": 6.0, "end": 7.0, "kind": "distractor"},
    ]
    (set_dir / "refs.json").write_text(json.dumps(refs, ensure_ascii=False), encoding="utf-8")
    transcript = [
        {"id": "h1", "ref": refs[0]["text"], "hyp": "周南市の窓口です", "uncorrected": "集南市の窓口です"},
        {"id": "h2", "ref": refs[1]["text"], "hyp": "須々万の方はこちらです", "uncorrected": "すすまの方はこちらです"},
        {"id": "h3", "ref": refs[2]["text"], "hyp": "書類は郵送します"},
    ]
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"set": str(set_dir), "transcript": transcript}, ensure_ascii=False), encoding="utf-8")
    return bench


def test_rows_with_each_rule_off(tmp_path):
    result = run_ablation([make_run(tmp_path)])
    rows = result["rows"]
    assert result["references"] == 3
    assert rows["none"]["names"] == "0/2" and rows["all"]["names"] == "2/2" and rows["bench"]["names"] == "2/2"
    assert rows["all"]["cer"] < rows["none"]["cer"]
    # 集南市 is 周南市 only when each kanji may take its other readings (集: しゅう)
    assert rows["all but kanji_readings"]["names"] == "1/2"
    assert set(rows) == {"bench", "none", "all", *(f"all but {r.name}" for r in RULES if r.name not in NEEDS_PARTIALS)}
    assert all(row["distractor_false_alarms"] == 0 for row in rows.values())


def test_a_turned_off_rule_changes_nothing_else():
    entries = [Entry(surface="周南市", reading="しゅうなんし")]
    assert Corrector(entries).correct("集南市の窓口").text == "周南市の窓口"
    off = Corrector(entries, DictionaryOptions(rules_off=["kanji_readings"]))
    assert off.correct("集南市の窓口").text == "集南市の窓口"
    assert off.correct("しゅうなんしに行きます").text == "周南市に行きます"


def test_unknown_rule_names_are_a_clear_error():
    with pytest.raises(ValueError, match="unknown rule 'fuzzzy'"):
        DictionaryOptions(rules_off=["fuzzzy"]).validate()


def test_the_command_prints_json_and_reports_a_bad_file(tmp_path):
    bench = make_run(tmp_path)
    done = subprocess.run([sys.executable, "-m", "captioner", "dict", "ablate", str(bench)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"]["all"]["names"] == "2/2"
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "captioner", "dict", "ablate", str(bad)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0 and "not the output of `captioner bench --output`" in done.stderr and "Traceback" not in done.stderr


def test_fill_loads_thousands_of_words_and_counts_wrong_replacements(tmp_path):
    bench = make_run(tmp_path)
    result = run_ablation([bench], fill=2000)
    assert result["entries"] == [2000]
    rows = result["rows"]
    assert rows["all"]["names"] == "2/2" and rows["all"]["wrong_replacements"] == 0
    assert "wrong_replacements" not in rows["none"]  # nothing is corrected there
    # the recognizer wrote a registered reading where the clerk said something else
    data = json.loads(bench.read_text(encoding="utf-8"))
    data["transcript"][2]["hyp"] = "ふくがわの書類は郵送します"
    bench.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    rows = run_ablation([bench], fill=2000)["rows"]
    assert rows["all"]["wrong_replacements"] == 1 and rows["all"]["distractor_false_alarms"] == 1
