"""Build tiny but real Argos Translate packages (for tests and the overhead benchmark).

No language package can be downloaded on our machines, so this makes one: a SentencePiece
model trained on a few lines, and a CTranslate2 Transformer (one layer, or the size of a real
Argos model: see :data:`SIZES`) whose weights are set by hand so that it translates *piece by
piece*: the decoder step ``t`` attends to source
position ``t`` and emits the target piece that ``mapping`` gives for that source piece (the
piece itself when the mapping has none). The source end-of-sentence token maps to the target
one, so decoding stops by itself. The result goes through exactly the same loading,
tokenizing and ``translate_batch`` path as a real package, and its output is predictable:
:func:`expected_output` computes it without the model.

How the weights work (one attention head, pre-norm, every sub-layer but cross-attention
zeroed): the model width is ``Dt + Dp``. Source piece ``i`` is embedded as row ``i + 1`` of
a Hadamard matrix in the first ``Dt`` dimensions (rows are orthogonal and sum to zero, so
layer norms only rescale); positions are centred one-hot vectors in the last ``Dp``
dimensions. Cross-attention queries and keys read the position part (a sharp peak where
the positions are equal), values read the token part, and the output projection scores
target piece ``k`` by the sum of the codes of the source pieces mapped to it.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

MAX_POSITIONS = 256
SPECIAL = ("<unk>", "<s>", "</s>")


def train_sentencepiece(lines: Iterable[str], symbols: Iterable[str] = (), vocab_size: int = 200) -> bytes:
    """A SentencePiece model (bytes) trained on ``lines``; ``symbols`` always stay one piece."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(lines)),
        model_writer=model,
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        user_defined_symbols=list(symbols),
        minloglevel=2,
        num_threads=1,
    )
    return model.getvalue()


# Sizes: "tiny" is one layer; "base" computes as much per token as an Argos package's model
# (Transformer base: 6+6 layers, 512 wide, feed-forward 2048, 32k target pieces, int8), the
# extra layers and pieces being zero weights that change nothing in the output.
SIZES = {
    "tiny": {"layers": 1, "ffn": 4, "target_vocab_size": 0, "quantization": None},
    "base": {"layers": 6, "ffn": 2048, "target_vocab_size": 32000, "quantization": "int8"},
}


def build_model(
    model_dir: Path,
    source_vocab: list[str],
    mapping: Mapping[str, str],
    *,
    layers: int = 1,
    ffn: int = 4,
    target_vocab_size: int = 0,
    quantization: str | None = None,
) -> list[str]:
    """Write a CTranslate2 model that maps each source piece through ``mapping``; return the target vocabulary."""
    from ctranslate2 import specs

    target_vocab = list(SPECIAL)
    for piece in source_vocab:
        out = mapping.get(piece, piece)
        if out not in target_vocab:
            target_vocab.append(out)
    target_vocab += [f"▁unused{i}" for i in range(target_vocab_size - len(target_vocab))]
    dt = _power_of_two(len(source_vocab) + 1)
    dp = MAX_POSITIONS
    d = dt + dp
    codes = _hadamard(dt)[1 : len(source_vocab) + 1].astype(np.float32)  # row 0 is all ones
    positions = np.eye(dp, dtype=np.float32) - 1.0 / dp

    spec = specs.TransformerSpec.from_config(layers, 1)
    spec.config.add_source_eos = True
    spec.encoder.scale_embeddings = False
    spec.decoder.scale_embeddings = False

    source_embeddings = np.zeros((len(source_vocab), d), np.float32)
    source_embeddings[:, :dt] = codes
    spec.encoder.embeddings[0].weight = source_embeddings
    position_encodings = np.zeros((MAX_POSITIONS, d), np.float32)
    position_encodings[:, dt:] = positions
    spec.encoder.position_encodings.encodings = position_encodings
    spec.decoder.position_encodings.encodings = position_encodings.copy()
    spec.decoder.embeddings.weight = np.zeros((len(target_vocab), d), np.float32)

    # Layer norm scales (every vector is mean-free, so a layer norm divides by its RMS).
    position_norm = float(np.sum(positions[0] ** 2))
    sigma_enc = np.sqrt((dt + position_norm) / d)  # encoder output
    sigma_query = np.sqrt(position_norm / d)  # decoder input: position only
    sigma_out = np.sqrt((dt / sigma_enc**2 + position_norm) / d)  # decoder output

    for encoder_layer in spec.encoder.layer:
        _zero_attention(encoder_layer.self_attention, d, fused=3)
        _zero_ffn(encoder_layer.ffn, d, ffn)
    _unit_norm(spec.encoder.layer_norm, d)
    for decoder_layer in spec.decoder.layer:
        _zero_attention(decoder_layer.self_attention, d, fused=3)
        _zero_ffn(decoder_layer.ffn, d, ffn)
        _zero_attention(decoder_layer.attention, d, fused=1)
    _unit_norm(spec.decoder.layer_norm, d)
    # The last decoder layer aligns (it is the one CTranslate2 reads for replace_unknowns).
    cross = spec.decoder.layer[-1].attention
    gap = 40.0  # attention logit margin between the aligned position and any other
    query = np.zeros((d, d), np.float32)
    query[dt:, dt:] = np.eye(dp) * gap * sigma_enc * sigma_query * np.sqrt(d)
    key_value = np.zeros((2 * d, d), np.float32)
    key_value[dt:d, dt:] = np.eye(dp)  # keys: position part
    key_value[d : d + dt, :dt] = np.eye(dt)  # values: token part
    cross.linear[0].weight, cross.linear[0].bias = query, np.zeros(d, np.float32)
    cross.linear[1].weight, cross.linear[1].bias = key_value, np.zeros(2 * d, np.float32)
    cross.linear[2].weight, cross.linear[2].bias = np.eye(d, dtype=np.float32), np.zeros(d, np.float32)

    projection = np.zeros((len(target_vocab), d), np.float32)
    scale = 30.0 * sigma_enc * sigma_out / dt  # logit of the right piece; the others get 0
    index = {piece: k for k, piece in enumerate(target_vocab)}
    for i, piece in enumerate(source_vocab):
        projection[index[mapping.get(piece, piece)], :dt] += codes[i] * scale
    spec.decoder.projection.weight = projection
    spec.decoder.projection.bias = np.zeros(len(target_vocab), np.float32)

    spec.register_source_vocabulary(source_vocab)
    spec.register_target_vocabulary(target_vocab)
    spec.validate()
    spec.optimize(quantization=quantization)
    model_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(model_dir))
    return target_vocab


def build_package(
    path: str | Path,
    from_code: str,
    to_code: str,
    lines: Iterable[str],
    mapping: Mapping[str, str] | None = None,
    *,
    symbols: Iterable[str] = (),
    package_version: str = "1.0",
    metadata: Mapping[str, object] | None = None,
    size: str = "tiny",
) -> Path:
    """Write ``path`` (an ``.argosmodel`` zip) with a tiny model translating ``from_code`` → ``to_code``.

    ``symbols`` become single SentencePiece pieces (e.g. the words of ``mapping``, or the
    name placeholders); ``metadata`` adds or overrides ``metadata.json`` fields; ``size`` is
    one of :data:`SIZES` (same output, different compute).
    """
    import sentencepiece as spm

    mapping = dict(mapping or {})
    sp_bytes = train_sentencepiece(lines, symbols=[*symbols, *[k for k in mapping if k not in symbols]])
    processor = spm.SentencePieceProcessor(model_proto=sp_bytes)
    source_vocab = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    top = f"translate-{from_code}_{to_code}-{package_version.replace('.', '_')}"
    info = {
        "package_version": package_version,
        "argos_version": "1.0",
        "from_code": from_code,
        "from_name": from_code,
        "to_code": to_code,
        "to_name": to_code,
        "type": "translate",
        "note": f"{size} test model built by captioner.app.bench.tiny_argos (piece-by-piece mapping)",
        **(metadata or {}),
    }
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        build_model(model_dir, source_vocab, mapping, **SIZES[size])
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{top}/metadata.json", json.dumps(info, ensure_ascii=False, indent=2))
            archive.writestr(f"{top}/sentencepiece.model", sp_bytes)
            archive.writestr(f"{top}/README.md", f"Tiny {from_code}→{to_code} test package.\n")
            for file in sorted(model_dir.iterdir()):
                archive.write(file, f"{top}/model/{file.name}")
    return path


def expected_output(sp_model: bytes | Path, mapping: Mapping[str, str], text: str) -> str:
    """What a tiny model built with ``mapping`` returns for ``text`` (no model involved)."""
    import sentencepiece as spm

    proto = sp_model if isinstance(sp_model, bytes) else Path(sp_model).read_bytes()
    processor = spm.SentencePieceProcessor(model_proto=proto)
    pieces = processor.encode(text, out_type=str)
    return "".join(mapping.get(p, p) for p in pieces).replace("▁", " ").strip()


def _power_of_two(n: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return max(size, 2)


def _hadamard(n: int) -> np.ndarray:
    matrix = np.ones((1, 1), np.float32)
    while matrix.shape[0] < n:
        matrix = np.block([[matrix, matrix], [matrix, -matrix]])
    return matrix


def _unit_norm(norm, d: int) -> None:
    norm.gamma = np.ones(d, np.float32)
    norm.beta = np.zeros(d, np.float32)


def _zero_attention(attention, d: int, fused: int) -> None:
    """Self-attention (fused=3: QKV, output) or cross-attention (fused=1: Q, KV, output), all zero."""
    _unit_norm(attention.layer_norm, d)
    shapes = [(3 * d, d), (d, d)] if fused == 3 else [(d, d), (2 * d, d), (d, d)]
    for linear, shape in zip(attention.linear, shapes):
        linear.weight = np.zeros(shape, np.float32)
        linear.bias = np.zeros(shape[0], np.float32)


def _zero_ffn(ffn, d: int, hidden: int = 4) -> None:
    _unit_norm(ffn.layer_norm, d)
    ffn.linear_0.weight = np.zeros((hidden, d), np.float32)
    ffn.linear_0.bias = np.zeros(hidden, np.float32)
    ffn.linear_1.weight = np.zeros((d, hidden), np.float32)
    ffn.linear_1.bias = np.zeros(d, np.float32)
