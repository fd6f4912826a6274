"""What a sherpa-onnx model folder holds: its kind, the files to load, and the characters it can write.

Two kinds are read from the file names:

* ``transducer`` (ReazonSpeech k2): ``encoder*.onnx``, ``decoder*.onnx``, ``joiner*.onnx``,
  ``tokens.txt``. Where a folder has both, the int8 encoder and joiner are taken with the
  fp32 decoder: the pairing ReazonSpeech measured (an int8 decoder loses accuracy).
* ``nemo_ctc`` (Parakeet-ja's CTC head): ``model*.onnx`` and ``tokens.txt``.

``tokens.txt`` has one ``symbol id`` a line. A character that is in no token cannot be
written by the model, and a hotword holding one makes sherpa-onnx drop the hotwords.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from captioner.core.errors import ModelError

TOKENS = "tokens.txt"
TRANSDUCER = "transducer"
NEMO_CTC = "nemo_ctc"
KINDS = (TRANSDUCER, NEMO_CTC)
ROLES = {TRANSDUCER: ("encoder", "decoder", "joiner"), NEMO_CTC: ("model",)}
PREFER_INT8 = {"encoder": True, "joiner": True, "decoder": False, "model": True}
SPECIAL = ("<", "[")  # <blk>, <unk>, <sos/eos>, [PAD]: not text
WORD_PIECE_MARK = "▁"  # SentencePiece's word start


@dataclass(frozen=True)
class SherpaFolder:
    """A complete sherpa-onnx model folder."""

    path: Path
    kind: str
    files: dict[str, str]  # role (encoder, decoder, joiner, model, tokens) -> file name
    tokens: frozenset[str]

    def file(self, role: str) -> str:
        return str(self.path / self.files[role])

    @property
    def characters(self) -> frozenset[str]:
        """Every character some token writes."""
        return frozenset("".join(self.tokens).replace(WORD_PIECE_MARK, ""))

    def unwritable(self, word: str) -> str:
        """The characters of ``word`` (spaces aside) that no token of the model writes, in order, once each.

        A transducer's hotwords are encoded a character a token, so for it each character
        must be a token of its own; a CTC model's pieces may hold several characters.
        """
        known = self.tokens if self.kind == TRANSDUCER else self.characters
        return "".join(dict.fromkeys(c for c in word if not c.isspace() and c not in known))


def looks_like_sherpa(folder: Path) -> bool:
    """True when ``folder`` holds ONNX files or a ``tokens.txt`` (a sherpa-onnx model, complete or not)."""
    return folder.is_dir() and ((folder / TOKENS).is_file() or any(folder.glob("*.onnx")))


def read_sherpa_folder(folder: Path) -> SherpaFolder:
    """The kind and files of the sherpa-onnx model in ``folder``; ModelError says what is missing."""
    if not folder.is_dir():
        raise ModelError(f"model folder {folder} does not exist")
    onnx = sorted(p.name for p in folder.glob("*.onnx") if p.is_file())
    found = {role: _choose(role, onnx) for role in ("encoder", "decoder", "joiner", "model")}
    if any(found[r] for r in ROLES[TRANSDUCER]):
        kind = TRANSDUCER
    elif found["model"]:
        kind = NEMO_CTC
    else:
        hint = " (it looks like a CTranslate2 Whisper model: set asr.backend: whisper)" if (folder / "model.bin").is_file() else ""
        raise ModelError(
            f"model folder {folder} is not a sherpa-onnx model{hint}: a transducer needs encoder*.onnx, "
            "decoder*.onnx, joiner*.onnx and tokens.txt; a NeMo CTC model needs model*.onnx and tokens.txt"
        )
    missing = [f"{role}*.onnx" for role in ROLES[kind] if not found[role]]
    if not (folder / TOKENS).is_file():
        missing.append(TOKENS)
    if missing:
        what = "transducer (encoder, decoder, joiner, tokens.txt)" if kind == TRANSDUCER else "NeMo CTC model (model, tokens.txt)"
        raise ModelError(f"model folder {folder} is an incomplete {what}: missing {', '.join(missing)}")
    files = {role: found[role] for role in ROLES[kind]}
    files["tokens"] = TOKENS
    return SherpaFolder(folder, kind, files, read_tokens(folder / TOKENS))


def read_tokens(path: Path) -> frozenset[str]:
    """The text symbols of ``tokens.txt`` (special symbols such as ``<blk>`` left out)."""
    symbols = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"{path}: cannot be read as UTF-8 text ({e})") from e
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        symbol, _, index = line.rstrip("\n").rpartition(" ")
        if not index.isdigit():
            raise ModelError(f"{path}, line {number}: expected 'symbol id', found {line!r}")
        if symbol and not symbol.startswith(SPECIAL):
            symbols.add(unicodedata.normalize("NFC", symbol))
    if not symbols:
        raise ModelError(f"{path}: no tokens")
    return frozenset(symbols)


def _choose(role: str, names: list[str]) -> str | None:
    """The file for ``role`` among ``names``: int8 or not as PREFER_INT8 says, else the other."""
    candidates = [n for n in names if n.startswith(role)]
    if not candidates:
        return None
    preferred = [n for n in candidates if (".int8." in n) == PREFER_INT8[role]]
    return (preferred or candidates)[0]
