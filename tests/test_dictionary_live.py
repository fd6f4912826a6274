"""The dictionary in a running captioner: an edit takes effect without a restart."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import wave

import numpy as np
import pytest
from faster_whisper import decode_audio

from captioner.core.events import CaptionEvent
from tests.recognized import misheard_piece

pytestmark = pytest.mark.model


def write_wav(path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


def test_word_added_while_running_corrects_the_next_caption(eval_dir, tmp_path):
    speech = decode_audio(str(eval_dir / "d13.wav"))  # 十六島の海苔は… (never written 十六島 by the recognizer)
    gap = np.zeros(16000 * 4, np.float32)
    write_wav(tmp_path / "twice.wav", np.concatenate([gap, speech, gap, speech, gap[:16000]]))
    words = tmp_path / "words"
    words.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"dictionary:\n  folder: {words}\n  reload_seconds: 0.5\n"
        # each copy decoded once, whole and without the previous caption: the same audio, the same text
        "streaming:\n  partials: false\nasr:\n  condition_on_previous: false\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "captioner", "run", "--jsonl", "--config", str(config), "--input", str(tmp_path / "twice.wav")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    finals = []
    for line in process.stdout:
        event = json.loads(line)
        if event["kind"] == "final" and event["text"]:
            finals.append(event)
            if len(finals) == 1:  # the first caption is out: register what it misheard as 十六島 now
                alias = misheard_piece(event["text"])
                entry = {"surface": "十六島", "reading": "うっぷるい", "aliases": [alias]}
                (words / "words.yaml").write_text("- " + json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    process.wait(timeout=60)
    assert process.returncode == 0, process.stderr.read()
    assert len(finals) == 2, finals
    assert "十六島" not in finals[0]["corrected_text"]
    assert "十六島" in finals[1]["corrected_text"], (alias, finals[1])
    assert finals[1]["text"] != finals[1]["corrected_text"]  # the original is kept too


def test_broken_edit_keeps_the_last_good_words(tmp_path):
    from dictionary.options import DictionaryOptions
    from dictionary.stage import DictionaryStage
    from dictionary.store import DictionaryWatcher

    words = tmp_path / "words.yaml"
    words.write_text("- {surface: 十六島, reading: うっぷるい}\n", encoding="utf-8")
    options = DictionaryOptions(folder=str(tmp_path), reload_seconds=0.1)
    stage = DictionaryStage(options)
    with DictionaryWatcher(options, lambda result: stage.set_entries(result.entries)) as watcher:
        stage.set_entries(watcher.current().entries)
        words.write_text("- {surface: 十六島, reading: [broken\n", encoding="utf-8")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not watcher.current().problems:
            time.sleep(0.1)
        assert any(":1" in str(p) or ":2" in str(p) for p in watcher.current().problems)
        assert stage.apply(CaptionEvent("final", 1, "うぷるいの海苔", 0, 1, 1)).display_text == "十六島の海苔"
