"""The sherpa-onnx backend with small models built here (tests/sherpa_support.py), run by the real
sherpa-onnx runtime: hotwords per utterance, both model kinds, folder checks, the CLI chain,
`model import/list/compare`, and the vocabulary warnings of check, dict add and the admin page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from captioner.core.errors import ModelError
from captioner.engine.backends import create_recognizer
from captioner.engine.recognizer import AsrOptions
from captioner.engine.sherpa_folder import NEMO_CTC, TRANSDUCER, read_sherpa_folder
from tests.sherpa_support import TOKENS, build_nemo_ctc, build_transducer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sherpa")
    build_transducer(root / "tiny-k2")
    build_nemo_ctc(root / "tiny-parakeet")
    return root


@pytest.fixture(scope="module")
def transducer(models):
    return create_recognizer(AsrOptions(backend="sherpa", model=str(models / "tiny-k2")))


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768


def env_for(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(REPO))
    env.pop("CAPTIONER_CONFIG", None)
    env.pop("CAPTIONER_DATA", None)
    return env


def captioner(env, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "captioner", *args], capture_output=True, text=True, timeout=timeout, env=env)


def write_config(path: Path, model: str, words: Path | None = None, web: bool = False) -> Path:
    lines = ["asr:", "  backend: sherpa", f"  model: {model}", "web:", f"  enabled: {'true' if web else 'false'}"]
    if words is not None:  # by default (boost_candidates_max) names that sound like a partial become the final's hotwords
        lines += ["dictionary:", "  enabled: true", f"  folder: {words}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_words(folder: Path, *rows: tuple[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "words.yaml").write_text("".join(f"- surface: {s}\n  reading: {r}\n" for s, r in rows), encoding="utf-8")
    return folder


# -- the recognizer -----------------------------------------------------------------------


def test_a_hotword_of_this_utterance_flips_the_near_tie(transducer, eval_dir):
    audio = read_wav(eval_dir / "d01.wav")
    assert transducer.capabilities.hotwords and not transducer.capabilities.no_speech_prob
    plain = transducer.transcribe(audio).text
    assert plain.startswith("豊富市"), plain  # the model's own first choice (the near-tie)
    assert transducer.transcribe(audio, hotwords="駅前、防府市").text.startswith("防府市")
    assert transducer.transcribe(audio).text == plain  # hotwords belong to one call only
    # a word with a character outside tokens.txt is left out; the others still work
    assert transducer.transcribe(audio, hotwords="徳山駅、防府市").text.startswith("防府市")


def test_silence_and_quiet_noise_give_no_text(transducer):
    rng = np.random.default_rng(0)
    assert transducer.transcribe(np.zeros(16000, np.float32)).text == ""
    assert transducer.transcribe(rng.normal(0, 0.002, 32000).astype(np.float32)).text == ""


def test_a_nemo_ctc_folder_is_the_second_kind(models, eval_dir):
    recognizer = create_recognizer(AsrOptions(backend="sherpa", model=str(models / "tiny-parakeet")))
    assert recognizer.describe()["kind"] == NEMO_CTC
    assert not recognizer.capabilities.hotwords
    text = recognizer.transcribe(read_wav(eval_dir / "d01.wav"), hotwords="防府市").text
    assert text and set(text) <= set("窓口です")


# -- folders -------------------------------------------------------------------------------


def test_the_kind_and_files_are_read_from_the_folder(models, tmp_path):
    folder = read_sherpa_folder(models / "tiny-k2")
    assert folder.kind == TRANSDUCER
    assert folder.files["decoder"] == "decoder.onnx" and folder.files["encoder"] == "encoder.int8.onnx"
    assert folder.unwritable("防府市") == "" and folder.unwritable("徳山駅") == "徳山"
    # both precisions present: int8 encoder and joiner, fp32 decoder (ReazonSpeech's pairing)
    both = build_transducer(tmp_path / "both", names=("encoder-epoch-99-avg-1.onnx", "decoder-epoch-99-avg-1.int8.onnx", "joiner-epoch-99-avg-1.onnx"))
    build_transducer(both, names=("encoder-epoch-99-avg-1.int8.onnx", "decoder-epoch-99-avg-1.onnx", "joiner-epoch-99-avg-1.int8.onnx"))
    files = read_sherpa_folder(both).files
    assert (files["encoder"], files["decoder"], files["joiner"]) == (
        "encoder-epoch-99-avg-1.int8.onnx", "decoder-epoch-99-avg-1.onnx", "joiner-epoch-99-avg-1.int8.onnx")  # fmt: skip


def test_a_missing_file_and_a_wrong_kind_are_named(models, tmp_path):
    broken = shutil.copytree(models / "tiny-k2", tmp_path / "broken")
    (broken / "joiner.int8.onnx").unlink()
    with pytest.raises(ModelError, match=r"incomplete transducer.*joiner\*\.onnx"):
        create_recognizer(AsrOptions(backend="sherpa", model=str(broken)))
    whisper_like = tmp_path / "whisper"
    whisper_like.mkdir()
    (whisper_like / "model.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match="asr.backend: whisper"):
        create_recognizer(AsrOptions(backend="sherpa", model=str(whisper_like)))
    no_tokens = shutil.copytree(models / "tiny-parakeet", tmp_path / "no-tokens")
    (no_tokens / "tokens.txt").unlink()
    with pytest.raises(ModelError, match="NeMo CTC.*tokens.txt"):
        create_recognizer(AsrOptions(backend="sherpa", model=str(no_tokens)))


def test_a_model_the_runtime_cannot_load_is_an_error_not_an_exit(models, tmp_path):
    """sherpa-onnx ends the process on a decoder without vocab_size: the probe runs it elsewhere."""
    import onnx

    broken = shutil.copytree(models / "tiny-k2", tmp_path / "no-metadata")
    decoder = onnx.load(str(broken / "decoder.onnx"))
    del decoder.metadata_props[:]
    onnx.save(decoder, str(broken / "decoder.onnx"))
    with pytest.raises(ModelError, match="sherpa-onnx cannot load this model"):
        create_recognizer(AsrOptions(backend="sherpa", model=str(broken)))


# -- the whole chain -----------------------------------------------------------------------


def test_run_input_through_dictionary_and_log_with_hotwords(models, eval_dir, tmp_path):
    """Partials find 防府市 by sound; the final decode of that utterance gets it as a hotword."""
    words = write_words(tmp_path / "words", ("防府市", "ほうふし"))
    config = write_config(tmp_path / "k2.yaml", str(models / "tiny-k2"), words)
    result = captioner(env_for(tmp_path), "run", "--config", str(config), "--input", str(eval_dir / "d01.wav"), "--jsonl")
    assert result.returncode == 0, result.stderr[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    finals = [e for e in events if e["kind"] == "final"]
    assert finals, result.stdout
    assert finals[0]["text"].startswith("防府市"), finals[0]  # the recognizer's own text, before correction
    assert any(e["kind"] == "partial" for e in events)


def test_transcribe_and_nonspeech_give_no_caption(models, eval_dir, tmp_path):
    config = write_config(tmp_path / "k2.yaml", str(models / "tiny-k2"))
    env = env_for(tmp_path)
    spoken = captioner(env, "transcribe", "--config", str(config), str(eval_dir / "d02.wav"))
    assert spoken.returncode == 0 and spoken.stdout.strip(), spoken.stderr[-2000:]
    assert set(spoken.stdout.strip()) <= set("".join(TOKENS[1:]))
    noise = captioner(env, "transcribe", "--config", str(config), str(eval_dir / "nonspeech.wav"))
    assert noise.returncode == 0, noise.stderr[-2000:]
    assert noise.stdout.strip() == "", noise.stdout  # the VAD gate and the guard: no caption on non-speech


def test_captions_without_a_full_stop_still_break_into_lines():
    from display.linebreak import break_lines

    text = "豊富市の窓口です" * 4  # k2 writes no 。
    lines = break_lines(text, 10)
    assert len(lines) >= 3 and all(len(line) <= 10 for line in lines) and "".join(lines) == text


# -- models onto the counter ----------------------------------------------------------------


def test_import_list_and_export_a_sherpa_folder(models, tmp_path):
    env = env_for(tmp_path)
    source = shutil.copytree(models / "tiny-k2", tmp_path / "reazonspeech-k2-v2")
    (source / "encoder.onnx").write_bytes((source / "encoder.int8.onnx").read_bytes())  # an unused fp32 copy
    imported = captioner(env, "model", "import", str(source))
    assert imported.returncode == 0, imported.stderr
    assert "sherpa" in imported.stdout and "Apache-2.0" in imported.stdout
    installed = tmp_path / "data" / "captioner" / "models" / "reazonspeech-k2-v2"
    manifest = json.loads((installed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "sherpa" and manifest["licence"] == "Apache-2.0"
    assert set(manifest["files"]) == {"encoder.int8.onnx", "decoder.onnx", "joiner.int8.onnx", "tokens.txt"}
    listing = json.loads(captioner(env, "model", "list", "--json").stdout)
    row = next(r for r in listing if r["name"] == "reazonspeech-k2-v2")
    assert row["backend"] == "sherpa" and row["ok"] and row["bytes"] > 0 and "Reazon" in row["attribution"]
    exported = captioner(env, "model", "export", "reazonspeech-k2-v2", str(tmp_path / "k2.zip"))
    assert exported.returncode == 0, exported.stderr
    again = captioner(env, "model", "import", str(tmp_path / "k2.zip"), "--name", "k2-copy")
    assert again.returncode == 0, again.stderr
    (installed / "tokens.txt").write_text("<blk> 0\n", encoding="utf-8")  # damaged after import
    assert captioner(env, "model", "list", "--verify").returncode == 1


def test_an_incomplete_sherpa_folder_is_not_installed(models, tmp_path):
    env = env_for(tmp_path)
    source = shutil.copytree(models / "tiny-k2", tmp_path / "k2")
    (source / "decoder.onnx").unlink()
    result = captioner(env, "model", "import", str(source))
    assert result.returncode == 3 and "decoder*.onnx" in result.stderr and "Traceback" not in result.stderr
    folder = tmp_path / "data" / "captioner" / "models"
    assert not folder.exists() or [p for p in folder.iterdir() if not p.name.startswith(".")] == []


def test_download_explains_itself_offline(tmp_path):
    result = captioner(env_for(tmp_path), "model", "download", "reazonspeech-k2-v2", "--to", str(tmp_path / "usb"), timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "offline" in result.stderr and "model import" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "usb" / "reazonspeech-k2-v2").exists()


def _short_set(eval_dir: Path, to: Path, seconds: float = 14.0) -> Path:
    """The first utterances of the dev set (session.wav cut short), so two benchmarks stay quick."""
    to.mkdir()
    refs = json.loads((eval_dir / "refs.json").read_text(encoding="utf-8"))
    kept = [r for r in refs if r["end"] <= seconds - 1.0]
    (to / "refs.json").write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    shutil.copyfile(eval_dir / "dictionary.yaml", to / "dictionary.yaml")
    with wave.open(str(eval_dir / "session.wav")) as src, wave.open(str(to / "session.wav"), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(int(seconds * src.getframerate())))
    return to


def test_model_compare_prints_one_row_per_model(models, eval_dir, tmp_path):
    env = env_for(tmp_path)
    assert captioner(env, "model", "import", str(models / "tiny-k2"), "--name", "tiny-k2").returncode == 0
    short = _short_set(eval_dir, tmp_path / "set")
    out = tmp_path / "compare.json"
    result = captioner(env, "model", "compare", str(short), "--models", "base,tiny-k2", "--no-nonspeech", "--replays", "2", "--output", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    header, *rows = result.stdout.strip().splitlines()
    assert header.split()[:3] == ["model", "backend", "CER"] and header.endswith("better/worse") and len(rows) == 2
    assert rows[0].startswith("base") and rows[1].startswith("tiny-k2") and "sherpa" in rows[1]
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert [m["model"] for m in saved["models"]] == ["base", "tiny-k2"] and saved["replays"] == 2
    for row in saved["models"]:
        assert 0 <= row["cer"] <= 2 and row["cpu_cores_avg"] > 0 and row["peak_rss_mb"] > 0
    # both models captioned both copies of every utterance; the second is compared with the first, one by one
    utterances = len(json.loads((short / "refs.json").read_text(encoding="utf-8")))
    ids = {t["id"] for t in saved["benches"]["base"]["transcript"]}
    assert ids == {f"{r['id']}~{k}" for r in json.loads((short / "refs.json").read_text(encoding="utf-8")) for k in (0, 1)}
    pairs = saved["models"][1]["paired"]
    assert pairs["utterances"] == 2 * utterances == pairs["better"] + pairs["worse"] + pairs["same"]
    assert "paired" not in saved["models"][0] and rows[1].rstrip().endswith(f"{pairs['better']} / {pairs['worse']}")
    # a model that fails is a row that says so, and exit 1; an unknown name is refused before any run
    broken = shutil.copytree(models / "tiny-k2", tmp_path / "broken")
    (broken / "tokens.txt").write_text("<blk> 0\n豊 1\n", encoding="utf-8")  # fewer tokens than the model's vocab_size
    failed = captioner(env, "model", "compare", str(short), "--models", str(broken), "--no-nonspeech", "--replays", "1", "--json")
    assert failed.returncode == 1, failed.stdout + failed.stderr[-2000:]
    assert "error" in json.loads(failed.stdout)["models"][0]
    unknown = captioner(env, "model", "compare", str(short), "--models", "nonesuch")
    assert unknown.returncode == 3 and "nonesuch" in unknown.stderr


# -- registered words the model cannot write ---------------------------------------------------


def test_check_dict_add_and_admin_report_unwritable_words(models, tmp_path):
    from captioner.app.check import check_vocabulary
    from captioner.app.config import load_config
    from web.admin import DictionaryAdmin

    words = write_words(tmp_path / "words", ("防府市", "ほうふし"), ("徳山駅", "とくやまえき"))
    config_path = write_config(tmp_path / "k2.yaml", str(models / "tiny-k2"), words)
    item = check_vocabulary(load_config(config_path))
    assert item.status == "WARN" and "徳山駅 (徳山)" in item.detail and "防府市" not in item.detail

    added = captioner(env_for(tmp_path), "dict", "add", "--config", str(config_path), "山口市", "やまぐちし")
    assert added.returncode == 0, added.stderr
    assert "cannot write '山'" in added.stderr
    fine = captioner(env_for(tmp_path), "dict", "add", "--config", str(config_path), "駅前", "えきまえ")
    assert fine.returncode == 0 and "cannot write" not in fine.stderr

    admin = DictionaryAdmin(words, unwritable=read_sherpa_folder(models / "tiny-k2").unwritable)
    assert "「周南」" in admin.add({"surface": "周南市", "reading": "しゅうなんし"})["warnings"][0]
    assert admin.add({"surface": "市の窓口", "reading": "しのまどぐち"})["warnings"] == []



def test_a_bundle_carries_a_sherpa_model_to_the_next_counter(models, eval_dir, tmp_path):
    env1, env2 = env_for(tmp_path / "one"), env_for(tmp_path / "two")
    assert captioner(env1, "model", "import", str(models / "tiny-k2"), "--name", "city-k2").returncode == 0
    config = tmp_path / "one" / "config" / "captioner" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("asr:\n  backend: sherpa\n  model: city-k2\n", encoding="utf-8")
    made = captioner(env1, "bundle", str(tmp_path / "city.zip"), "--no-translation")
    assert made.returncode == 0 and "models city-k2" in made.stdout, made.stdout + made.stderr
    installed = captioner(env2, "bundle", "install", str(tmp_path / "city.zip"))
    assert installed.returncode == 0, installed.stderr
    manifest = tmp_path / "two" / "data" / "captioner" / "models" / "city-k2" / "manifest.json"
    assert json.loads(manifest.read_text(encoding="utf-8"))["backend"] == "sherpa"
    first = captioner(env1, "transcribe", str(eval_dir / "d01.wav"))
    second = captioner(env2, "transcribe", str(eval_dir / "d01.wav"))
    assert first.returncode == 0 and first.stdout.strip() and first.stdout == second.stdout, first.stderr + second.stderr
