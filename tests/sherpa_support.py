"""Small sherpa-onnx model folders built with the ``onnx`` package, loaded by the real runtime.

The weights are chosen, not trained, so what the models write is known:

* **transducer** (the interface of ReazonSpeech k2: ``encoder``/``decoder``/``joiner`` +
  ``tokens.txt``): a character "language model" in the joiner follows one chain,
  豊富市の窓口です or 防府市の窓口です. The first character is a near-tie (豊 scores
  ``TIE_GAP`` above 防), so without hotwords the model writes 豊富市…, and a per-stream hotword
  防府市 flips it. The encoder passes each frame's loudness (mean log-mel) and a clock pulse
  (every ``PULSE_FRAMES`` frames, about 8 characters a second): a character is written only
  on a pulse in loud audio, so silence gives nothing and a growing segment a growing text.
* **NeMo CTC** (the interface of Parakeet-ja's CTC head: ``model.onnx`` + ``tokens.txt`` with
  ``<blk>`` last): the same clock writes the characters of 窓口です in turn on loud pulses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHAIN = "富市の窓口です"  # after the first character (豊 or 防, both → 富/府 → 市)
FIRST = ("豊", "防")
SECOND = {"豊": "富", "防": "府"}
TOKENS = ["<blk>", "豊", "防", "富", "府", "市", "の", "窓", "口", "で", "す", "駅", "前"]
TIE_GAP = 0.2  # 豊 over 防 at the start: a hotword bonus (1.5 a token) flips it
PULSE_FRAMES = 12  # a character at most every 12 frames (120 ms)
LOUD = {"transducer": -6.0, "ctc": -10.0}  # mean log-mel of a sounding frame (the two feature kinds differ)
OPSET = 13


def _model(nodes, inputs, outputs, initializers, metadata: dict[str, str]) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model


def _const(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array, name)


def _clock_nodes(features: str, time_axis: int) -> list:
    """Nodes computing ``loud`` [N,T] (0/1) and ``pulse`` [N,T] (0/1) from features [N,T,80] (or [N,80,T])."""
    feature_axis = 2 if time_axis == 1 else 1
    return [
        helper.make_node("ReduceMean", [features], ["energy"], axes=[feature_axis], keepdims=0),
        helper.make_node("Greater", ["energy", "loud_threshold"], ["loud_bool"]),
        helper.make_node("Cast", ["loud_bool"], ["loud"], to=TensorProto.FLOAT),
        helper.make_node("Shape", [features], ["shape"]),
        helper.make_node("Gather", ["shape", "time_axis"], ["frames"], axis=0),
        helper.make_node("Range", ["zero_i", "frames", "one_i"], ["index"]),
        helper.make_node("Mod", ["index", "pulse_every"], ["phase"]),
        helper.make_node("Equal", ["phase", "pulse_at"], ["pulse_bool"]),
        helper.make_node("Cast", ["pulse_bool"], ["pulse_t"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["loud", "pulse_t"], ["emit"]),  # [N,T] broadcast over N
    ]


def _clock_constants(time_axis: int, kind: str) -> list:
    return [
        _const("loud_threshold", np.array(LOUD[kind], dtype=np.float32)),
        _const("time_axis", np.array(time_axis, dtype=np.int64)),
        _const("zero_i", np.array(0, dtype=np.int64)),
        _const("one_i", np.array(1, dtype=np.int64)),
        _const("pulse_every", np.array(PULSE_FRAMES, dtype=np.int64)),
        _const("pulse_at", np.array(PULSE_FRAMES - 1, dtype=np.int64)),
    ]


def build_transducer(folder: Path, *, names: tuple[str, str, str] = ("encoder.int8.onnx", "decoder.onnx", "joiner.int8.onnx")) -> Path:
    """Write a transducer folder (encoder, decoder, joiner, tokens.txt) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = len(TOKENS)
    index = {t: i for i, t in enumerate(TOKENS)}

    # encoder: x [N,T,80], x_lens [N] -> encoder_out [N,T,1] (1 on a loud pulse, else 0), encoder_out_lens
    encoder = _model(
        [
            *_clock_nodes("x", 1),
            helper.make_node("Unsqueeze", ["emit", "last_axis"], ["encoder_out"]),
            helper.make_node("Identity", ["x_lens"], ["encoder_out_lens"]),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 80]),
         helper.make_tensor_value_info("x_lens", TensorProto.INT64, ["N"])],
        [helper.make_tensor_value_info("encoder_out", TensorProto.FLOAT, ["N", "T", 1]),
         helper.make_tensor_value_info("encoder_out_lens", TensorProto.INT64, ["N"])],
        [*_clock_constants(1, "transducer"), _const("last_axis", np.array([2], dtype=np.int64))],
        {"model_type": "zipformer2", "comment": "counter-captions test model"},
    )  # fmt: skip

    # decoder: y [N,2] -> one-hot of the last token [N,V]
    decoder = _model(
        [
            helper.make_node("Gather", ["y", "last"], ["previous"], axis=1),
            helper.make_node("Gather", ["eye", "previous"], ["decoder_out"], axis=0),
        ],
        [helper.make_tensor_value_info("y", TensorProto.INT64, ["N", 2])],
        [helper.make_tensor_value_info("decoder_out", TensorProto.FLOAT, ["N", vocab])],
        [_const("last", np.array(1, dtype=np.int64)), _const("eye", np.eye(vocab, dtype=np.float32))],
        {"vocab_size": str(vocab), "context_size": "2"},
    )

    # joiner: logit = decoder_out @ chain (the next character) + emit * gate (blank loses on a loud pulse)
    chain = np.zeros((vocab, vocab), dtype=np.float32)
    chain[:, 0] = 30.0  # blank wins by far unless a loud pulse lowers it (to 5)
    chain[0, index[FIRST[0]]] = 10.0
    chain[0, index[FIRST[1]]] = 10.0 - TIE_GAP
    for first in FIRST:
        text = first + SECOND[first] + CHAIN[1:]
        for a, b in zip(text, text[1:]):
            chain[index[a], index[b]] = 10.0
    gate = np.zeros((1, vocab), dtype=np.float32)
    gate[0, 0] = -25.0
    joiner = _model(
        [
            helper.make_node("MatMul", ["decoder_out", "chain"], ["language"]),
            helper.make_node("MatMul", ["encoder_out", "gate"], ["acoustic"]),
            helper.make_node("Add", ["language", "acoustic"], ["logit"]),
        ],
        [helper.make_tensor_value_info("encoder_out", TensorProto.FLOAT, ["N", 1]),
         helper.make_tensor_value_info("decoder_out", TensorProto.FLOAT, ["N", vocab])],
        [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N", vocab])],
        [_const("chain", chain), _const("gate", gate)],
        {},
    )  # fmt: skip
    for model, name in zip((encoder, decoder, joiner), names):
        onnx.save(model, str(folder / name))
    write_tokens(folder, TOKENS)
    return folder


def build_nemo_ctc(folder: Path, text: str = "窓口です", name: str = "model.int8.onnx") -> Path:
    """Write a NeMo CTC folder (model, tokens.txt with ``<blk>`` last) writing ``text`` in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = [*dict.fromkeys(text), "<blk>"]
    vocab = len(tokens)
    blank = vocab - 1
    # pulse k writes character k % len(text): logits = emit * onehot(char) * 10, blank 5 otherwise
    table = np.zeros((len(text), vocab), dtype=np.float32)
    for i, c in enumerate(text):
        table[i, tokens.index(c)] = 10.0
    model = _model(
        [
            *_clock_nodes("audio_signal", 2),
            helper.make_node("Div", ["index", "pulse_every"], ["pulse_number"]),
            helper.make_node("Mod", ["pulse_number", "text_length"], ["which"]),
            helper.make_node("Gather", ["table", "which"], ["wanted"], axis=0),  # [T,V]
            helper.make_node("Unsqueeze", ["emit", "last_axis"], ["emit3"]),  # [N,T,1]
            helper.make_node("Mul", ["emit3", "wanted"], ["spoken"]),  # [N,T,V]
            helper.make_node("Add", ["spoken", "blank_bias"], ["scores"]),
            helper.make_node("LogSoftmax", ["scores"], ["logprobs"], axis=-1),
        ],
        [helper.make_tensor_value_info("audio_signal", TensorProto.FLOAT, ["N", 80, "T"]),
         helper.make_tensor_value_info("length", TensorProto.INT64, ["N"])],
        [helper.make_tensor_value_info("logprobs", TensorProto.FLOAT, ["N", "T", vocab])],
        [*_clock_constants(2, "ctc"), _const("table", table), _const("text_length", np.array(len(text), dtype=np.int64)),
         _const("last_axis", np.array([2], dtype=np.int64)),
         _const("blank_bias", np.eye(vocab, dtype=np.float32)[blank] * 5.0)],
        {"vocab_size": str(vocab), "subsampling_factor": "1", "normalize_type": "",
         "model_type": "EncDecCTCModelBPE"},
    )  # fmt: skip
    onnx.save(model, str(folder / name))
    write_tokens(folder, tokens)
    return folder


def write_tokens(folder: Path, tokens: list[str]) -> None:
    (folder / "tokens.txt").write_text("".join(f"{t} {i}\n" for i, t in enumerate(tokens)), encoding="utf-8")


if __name__ == "__main__":  # build both into a folder: python -m tests.sherpa_support DIR
    import sys

    root = Path(sys.argv[1])
    build_transducer(root / "tiny-k2")
    build_nemo_ctc(root / "tiny-parakeet")
    print(root)
