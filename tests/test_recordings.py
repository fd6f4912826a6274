"""An evaluation set from recordings (``captioner corpus recordings``) and its replays
(``captioner model compare --replays``): real WAV files of the dev set, real decoding."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from captioner.app.bench.recordings import PAUSE_S, set_from_recordings
from captioner.app.bench.replays import FRAME_S, QUIETER, SHIFT_STEP_S, paired, replayed_set
from captioner.core.errors import CaptionerError
from captioner.core.evalset import load_references


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def utterance_texts(eval_dir: Path) -> dict[str, str]:
    rows = (eval_dir / "utterances.tsv").read_text(encoding="utf-8").splitlines()
    return dict(row.split("\t", 1) for row in rows if row.strip())


@pytest.fixture()
def recorded(eval_dir, tmp_path) -> Path:
    """A list of three dev recordings (by relative and absolute path, with a comment and a blank line)."""
    texts = utterance_texts(eval_dir)
    ids = sorted(texts)[:3]
    listing = tmp_path / "rec" / "list.tsv"
    listing.parent.mkdir()
    (listing.parent / "a.wav").write_bytes((eval_dir / f"{ids[0]}.wav").read_bytes())
    lines = ["# what was said at the counter", f"a.wav\t{texts[ids[0]]}", "", *(f"{eval_dir / i}.wav\t{texts[i]}" for i in ids[1:])]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


def test_a_set_from_recordings_holds_each_recording_where_refs_says(recorded, eval_dir, tmp_path):
    out = tmp_path / "set"
    result = set_from_recordings(recorded, out, dictionary=eval_dir / "dictionary.yaml")
    refs = load_references(out)
    assert result["utterances"] == 3 == len(refs) and refs[0].id == "a"
    assert (out / "dictionary.yaml").read_bytes() == (eval_dir / "dictionary.yaml").read_bytes()
    session = read_wav(out / "session.wav")
    texts = utterance_texts(eval_dir)
    for ref in refs:
        audio = read_wav(out / f"{ref.id}.wav")
        original = read_wav(Path(ref.extra["source"]))
        assert len(audio) == len(original) and np.allclose(audio, original, atol=2 / 32768)  # 16-bit rounding
        start = round(ref.start * 16000)
        assert np.allclose(session[start : start + len(audio)], audio) and ref.end - ref.start == pytest.approx(len(audio) / 16000, abs=1e-3)
        assert ref.text in texts.values()
    assert len(session) / 16000 == pytest.approx(refs[-1].end + PAUSE_S, abs=1e-3)
    assert refs[0].start == PAUSE_S and all(b.start - a.end == pytest.approx(PAUSE_S, abs=1e-3) for a, b in zip(refs, refs[1:]))
    assert len((out / "utterances.tsv").read_text(encoding="utf-8").splitlines()) == 3


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("a.wav 言ったこと", "list.tsv:2: expected an audio file, a tab and what was said"),
        ("a.wav\t   ", "list.tsv:2: expected an audio file, a tab and what was said"),
        ("missing.wav\t言ったこと", "list.tsv:2: no audio file"),
        ("b/a.wav\t同じ名前", "list.tsv:2: 'a' again (line 1)"),
        ("notes.wav\t音ではない", "list.tsv:2: Cannot read audio file"),
    ],
)
def test_a_wrong_line_is_named_with_its_file_and_line(eval_dir, tmp_path, line, says):
    (tmp_path / "a.wav").write_bytes((eval_dir / "d01.wav").read_bytes())
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.wav").write_bytes((eval_dir / "d02.wav").read_bytes())
    (tmp_path / "notes.wav").write_text("not audio", encoding="utf-8")
    listing = tmp_path / "list.tsv"
    listing.write_text(f"a.wav\tおはようございます\n{line}\n", encoding="utf-8")
    with pytest.raises(CaptionerError, match="list.tsv") as raised:
        set_from_recordings(listing, tmp_path / "set")
    assert says in str(raised.value)
    assert not (tmp_path / "set" / "refs.json").exists()


def test_the_command_builds_a_set_and_refuses_an_empty_list_without_a_traceback(recorded, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "captioner", "corpus", "recordings", str(recorded), str(tmp_path / "set")],
                        capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout)["utterances"] == 3 and (tmp_path / "set" / "session.wav").is_file()
    empty = tmp_path / "empty.tsv"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "captioner", "corpus", "recordings", str(empty), str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert refused.returncode != 0 and "no recordings listed" in refused.stderr and "Traceback" not in refused.stderr


def test_replays_are_the_same_audio_shifted_and_quieter_where_their_refs_say(recorded, tmp_path):
    original = set_from_recordings(recorded, tmp_path / "set")["set"]
    replayed = replayed_set(Path(original), 3, tmp_path / "replayed")
    refs, base = load_references(replayed), {r.id: r for r in load_references(Path(original))}
    session = read_wav(replayed / "session.wav")
    assert [r.id for r in refs] == [f"{i}~{k}" for k in range(3) for i in base]
    starts = []
    for ref in refs:
        uid, k = ref.id.split("~")
        audio = read_wav(Path(original) / f"{uid}.wav") * (QUIETER if int(k) % 2 else 1.0)
        start = round(ref.start * 16000)
        assert np.allclose(session[start : start + len(audio)], audio, atol=2 / 32768), ref.id
        assert ref.text == base[uid].text and ref.extra["replay"] == int(k)
        starts.append(ref.start - base[uid].start)
    # each copy starts at another point of the VAD's 30 ms frames (counted from the session's start)
    shifts = sorted({round(s * 16000) % round(FRAME_S * 16000) for s in starts})
    assert shifts == sorted(round(SHIFT_STEP_S * 16000) * k % round(FRAME_S * 16000) for k in range(3))


def test_paired_counts_utterances_better_worse_and_the_same():
    def bench(hyps: dict[str, str]) -> dict:
        return {"transcript": [{"id": k, "ref": "市役所の窓口です", "hyp": v} for k, v in hyps.items()]}

    first = bench({"a": "市役所の窓口です", "b": "市役場の窓口", "c": "しやくしょ", "d": "市役所の窓口です"})
    other = bench({"a": "市役所の窓口です", "b": "市役所の窓口です", "c": "しやくしょのまどぐち", "e": "窓口"})
    result = paired(first, other)
    assert result["utterances"] == 3 and (result["better"], result["worse"], result["same"]) == (1, 1, 1)
    assert paired(first, first) == {"utterances": 4, "better": 0, "worse": 0, "same": 4, "mean_cer_diff": 0.0}
