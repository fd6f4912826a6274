"""``captioner model adapt``: teach Whisper's decoder the registered words, encoder frozen.

1. Plan sentences (:mod:`captioner.app.adapt.data`) and synthesize them.
2. Run the encoder once per utterance with CTranslate2, exactly as the live pipeline does
   (:meth:`WhisperRecognizer.encode_utterance`, int8 on the CPU), and the prompt as the
   pipeline builds it (:meth:`WhisperRecognizer.prompt`: previous caption, start of
   transcript); each result is stored in the work folder, so a stopped run resumes there.
3. Train the decoder in PyTorch on those encoder outputs (all of it, or low-rank adapters),
   one checkpoint per epoch (resumable).
4. Write a new model folder: the base folder's files with the decoder variables of
   ``model.bin`` replaced, a SHA-256 manifest recording the dictionary it learned, installed
   like an imported model (``asr.model: NAME``, ``model list``, ``model export``, bundles).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from captioner.app.adapt.data import PLAN_VERSION, Example, Word, batches, plan_examples, render
from captioner.app.adapt.modelbin import read_model_bin, write_model_bin
from captioner.app.adapt.stale import adapted_record
from captioner.core.errors import CaptionerError
from captioner.core.paths import cache_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdaptOptions:
    method: str = "lora"  # lora: low-rank adapters (merged when written); full: every decoder weight
    epochs: int = 4
    per_word: int = 2  # sentences per registered word
    plain_share: float = 0.25  # share of sentences without a registered word
    anchor_share: float = 0.5  # of those, everyday sentences far from the counter (data.plan_examples)
    learning_rate: float = 0.0  # 0: 1e-5 for full, 5e-4 for lora
    rank: int = 16
    adapter_parts: str = "all"  # lora: which layers (decoder.ADAPTER_PARTS)
    batch_size: int = 8
    seed: int = 14
    threads: int = 0  # 0: every core
    # Outside the registered words, how much the decoder is held to what the base model would
    # write there (distillation; 1: only the words are learned from the transcripts, 0: every
    # token is, which drifts on speech unlike the synthesized training speech).
    keep: float = 1.0

    @property
    def lr(self) -> float:
        return self.learning_rate or (1e-5 if self.method == "full" else 5e-4)


def adapt(
    config, words: list[Word], name: str, source_model: str, options: AdaptOptions, *, dictionary_source: str = "", force: bool = False
) -> tuple[Path, dict]:
    """Run the four steps; return the installed model folder and its manifest."""
    import torch

    from captioner.app.models import MANIFEST, _check_name, _free_destination, _swap_into_place, check_loads, model_files, write_manifest
    from captioner.engine.model_store import imported_models_root, resolve_model

    _check_name(name)
    if not words:
        raise CaptionerError("the dictionary has no registered words: nothing to adapt to (captioner dict add ...)")
    destination = _free_destination(imported_models_root(), name, force)  # fails early when taken
    started = time.monotonic()
    torch.set_num_threads(options.threads or os.cpu_count() or 1)
    base = Path(resolve_model(source_model, False))
    base_bin = base / "model.bin"
    data = [PLAN_VERSION, sorted((w.surface, w.reading) for w in words), options.per_word, options.plain_share, options.anchor_share, options.seed,
            source_model, base_bin.stat().st_size, config.asr.initial_prompt, config.asr.pad_seconds, config.asr.condition_on_previous]  # fmt: skip
    work = cache_dir() / "adapt" / hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]  # the same data: the same encoder outputs
    (work / "features").mkdir(parents=True, exist_ok=True)
    examples = plan_examples(words, options.per_word, options.plain_share, options.seed, options.anchor_share)
    print(f"adapting {source_model} to {len(words)} registered words: {len(examples)} sentences, "
          f"{options.epochs} epochs, {options.method} (work folder {work}; stopped runs resume)", file=sys.stderr)  # fmt: skip
    features = encode_examples(config, source_model, examples, work, options.seed)
    decoder = train_decoder(base_bin, features, work, options, [w.surface for w in words])
    record = adapted_record(words, source=dictionary_source, base=source_model, method=options.method,
                            sentences=len(examples), epochs=options.epochs)  # fmt: skip
    record["keep"] = options.keep
    record["minutes"] = round((time.monotonic() - started) / 60, 1)
    record["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    root = imported_models_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".adapting-", dir=root))
    try:
        for file in model_files(base):
            if file != "model.bin":
                shutil.copyfile(base / file, staging / file)
        model = read_model_bin(base_bin)
        for variable, value in decoder.items():
            if model.variables[variable].shape != value.shape:
                raise CaptionerError(f"{variable}: trained shape {value.shape} differs from the model's {model.variables[variable].shape}")
            model.variables[variable] = value.astype(model.variables[variable].dtype)
        write_model_bin(model, staging / "model.bin")
        check_loads(staging)
        manifest = write_manifest(staging, name, f"adapted from {source_model}", extra={"adapted": record})
        _swap_into_place(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("adapted model %s written to %s (%s)", name, destination, MANIFEST)
    return destination, manifest


def _bar(total: int, desc: str, initial: int = 0):
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread left running at exit
    return tqdm(total=total, initial=initial, desc=desc, unit="sent", file=sys.stderr, dynamic_ncols=True)


def encode_examples(config, source_model: str, examples: list[Example], work: Path, seed: int) -> list[Path]:
    """Synthesize each sentence and store its encoder output and tokens (skips stored ones)."""
    from dataclasses import replace

    from captioner.app.bench.corpus.build import Synthesizer
    from captioner.engine.whisper import WhisperRecognizer

    paths = [work / "features" / f"{e.id}.npz" for e in examples]
    todo = [(e, p) for e, p in zip(examples, paths) if not p.is_file()]
    if not todo:
        return paths
    recognizer = WhisperRecognizer(replace(config.asr, model=source_model, device="cpu", compute_type="int8"))
    synth = Synthesizer(cache_dir() / "adapt" / "tts")
    tokenizer = recognizer.tokenizer
    with _bar(len(examples), "speech + encoder", len(examples) - len(todo)) as bar:
        for example, path in todo:
            audio = render(example, synth, seed)
            encoded, _ = recognizer.encode_utterance(audio)
            previous = example.previous if config.asr.condition_on_previous else ""
            prompt, _ = recognizer.prompt("", previous, "")
            target = [*tokenizer.encode(example.text), tokenizer.eot]
            tmp = path.with_name(path.stem + ".tmp.npz")
            np.savez(tmp, memory=np.array(encoded)[0].astype(np.float16), prompt=np.array(prompt, np.int64), target=np.array(target, np.int64))
            tmp.replace(path)
            bar.update(1)
    return paths


def train_decoder(base_bin: Path, features: list[Path], work: Path, options: AdaptOptions, surfaces: list[str]) -> dict[str, np.ndarray]:
    """Train on the stored encoder outputs; a checkpoint per epoch lets a stopped run resume.

    The loss of a transcript token is its cross-entropy where the token spells a registered
    word (``surfaces``); elsewhere it is ``keep`` × the divergence from the frozen base
    decoder's prediction plus (1 − ``keep``) × the cross-entropy. The prompt's positions are
    held to the base decoder too (:func:`token_loss`).
    """
    import torch

    from captioner.app.adapt.decoder import Decoder

    torch.manual_seed(options.seed)
    variables = read_model_bin(base_bin).variables
    decoder = Decoder(variables)
    teacher = None
    if options.keep > 0:
        teacher = Decoder(variables).eval()
        teacher.requires_grad_(False)
    if options.method == "lora":
        decoder.use_adapters(options.rank, alpha=2.0 * options.rank, parts=options.adapter_parts)
    elif options.method != "full":
        raise CaptionerError(f"unknown method {options.method!r}: full or lora")
    trainable = [p for p in decoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=options.lr, weight_decay=0.0)
    settings = json.dumps([options.method, options.epochs, options.lr, options.rank, options.batch_size, options.keep, options.adapter_parts])
    checkpoint = work / f"checkpoint-{hashlib.sha256(settings.encode()).hexdigest()[:12]}.pt"
    first_epoch = 0
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True)
        decoder.load_state_dict(state["decoder"])
        optimizer.load_state_dict(state["optimizer"])
        first_epoch = state["epoch"]
    items = [dict(np.load(p)) for p in features]
    tokenizer = _tokenizer(base_bin.parent)
    for item in items:
        item["name"] = word_token_mask(tokenizer, item["target"][:-1], surfaces)
    steps = -(-len(items) // options.batch_size)
    decoder.train()
    for epoch in range(first_epoch, options.epochs):
        rng = random.Random(options.seed * 100 + epoch)
        losses = []
        with _bar(len(items), f"training epoch {epoch + 1}/{options.epochs}") as bar:
            for batch in batches(items, options.batch_size, rng):
                tokens, labels, names, context, memory, lengths = _collate(batch, torch)
                logits = decoder(tokens, memory, lengths)
                reference = None
                if teacher is not None:
                    with torch.no_grad():
                        reference = teacher(tokens, memory, lengths)
                loss = token_loss(logits, labels, names, context, reference, options.keep)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                losses.append(loss.item())
                bar.set_postfix(loss=f"{np.mean(losses[-steps:]):.3f}")
                bar.update(len(batch))
        log.info("epoch %d: mean loss %.3f", epoch + 1, float(np.mean(losses)))
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"decoder": decoder.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1}, tmp)
        tmp.replace(checkpoint)
    return decoder.export()


def _tokenizer(folder: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(folder / "tokenizer.json"))


def word_token_mask(tokenizer, ids: np.ndarray, surfaces: list[str]) -> np.ndarray:
    """True for each token of ``ids`` that spells part of a registered word in its text."""
    text = tokenizer.decode([int(i) for i in ids])
    encoding = tokenizer.encode(text, add_special_tokens=False)
    mask = np.zeros(len(ids), bool)
    if list(encoding.ids) != [int(i) for i in ids]:
        return mask  # a tokenization that does not round-trip: no token counts as a word
    covered = np.zeros(len(text) + 1, bool)
    for surface in sorted(set(surfaces), key=len, reverse=True):
        start = text.find(surface)
        while surface and start >= 0:
            covered[start : start + len(surface)] = True
            start = text.find(surface, start + len(surface))
    for i, (begin, end) in enumerate(encoding.offsets):
        mask[i] = bool(covered[begin:end].any())
    return mask


def token_loss(logits, labels, names, context, reference, keep: float):
    """Mean loss over the transcript tokens (see :func:`train_decoder`), plus ``keep`` × the mean
    divergence from the base decoder at the prompt's positions (``context``): the start of
    transcript is where the no-speech probability is read, which no transcript token trains."""
    from torch.nn import functional as F

    valid = labels != -100
    ce = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100, reduction="none")
    if reference is None or keep <= 0:
        return (ce * valid).sum() / valid.sum().clamp(min=1)
    log_p = F.log_softmax(logits, dim=-1)
    log_q = F.log_softmax(reference, dim=-1)
    kl = (log_q.exp() * (log_q - log_p)).sum(-1)
    per_token = ce.where(names, keep * kl + (1 - keep) * ce)
    held = (kl * context).sum() / context.sum().clamp(min=1)
    return (per_token * valid).sum() / valid.sum().clamp(min=1) + keep * held


def _collate(batch: list[dict], torch):
    """Pad a batch: tokens (prompt + target without its last), labels (-100 on the prompt), which
    labels spell a registered word, and the prompt's positions."""
    rows = [np.concatenate([b["prompt"], b["target"][:-1]]) for b in batch]
    width = max(len(r) for r in rows)
    tokens = torch.zeros(len(batch), width, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    names = torch.zeros(len(batch), width, dtype=torch.bool)
    context = torch.zeros(len(batch), width, dtype=torch.bool)
    for i, (row, b) in enumerate(zip(rows, batch)):
        tokens[i, : len(row)] = torch.from_numpy(row)
        start = len(b["prompt"]) - 1
        labels[i, start : start + len(b["target"])] = torch.from_numpy(b["target"])
        names[i, start : start + len(b["name"])] = torch.from_numpy(b["name"])
        context[i, :start] = True
    frames = max(b["memory"].shape[0] for b in batch)
    memory = torch.zeros(len(batch), frames, batch[0]["memory"].shape[1])
    for i, b in enumerate(batch):
        memory[i, : b["memory"].shape[0]] = torch.from_numpy(b["memory"].astype(np.float32))
    lengths = torch.tensor([b["memory"].shape[0] for b in batch])
    return tokens, labels, names, context, memory, lengths
