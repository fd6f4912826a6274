"""Read and write CTranslate2's ``model.bin`` (binary format version 6) without CTranslate2.

The layout is what ``ctranslate2.specs.model_spec.ModelSpec._serialize`` writes: the version,
the spec name (``WhisperSpec``), the spec revision, the variables (name, rank, shape, dtype
code, byte count, raw little-endian data) and the aliases (name → variable name). Reading a
file and writing it back gives the same bytes, so decoder weights can be replaced in a copy of
a model without touching anything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from captioner.core.errors import ModelError

BINARY_VERSION = 6
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")  # CTranslate2's DataType order
NUMPY_DTYPES = {"float32": np.float32, "int8": np.int8, "int16": np.int16, "int32": np.int32, "float16": np.float16}


@dataclass
class ModelBin:
    """The contents of a ``model.bin``: ``variables`` keep the file's order and dtypes."""

    spec: str
    revision: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    aliases: list[tuple[str, str]] = field(default_factory=list)


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ModelError(f"{self.path}: truncated model.bin (ends at byte {len(self.data)})")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.take("<H")
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        return raw[:-1].decode("utf-8")

    def block(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise ModelError(f"{self.path}: truncated model.bin (ends at byte {len(self.data)})")
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        return raw


def read_model_bin(path: Path) -> ModelBin:
    """Parse ``path``; ModelError for another format version, an unknown dtype or a short file."""
    reader = _Reader(Path(path).read_bytes(), Path(path))
    version = reader.take("<I")
    if version != BINARY_VERSION:
        raise ModelError(f"{path}: model.bin format version {version}; only version {BINARY_VERSION} is supported")
    model = ModelBin(spec=reader.string(), revision=reader.take("<I"))
    for _ in range(reader.take("<I")):
        name = reader.string()
        shape = tuple(reader.take("<I") for _ in range(reader.take("<B")))
        code = reader.take("<B")
        size = reader.take("<I")
        if code >= len(DTYPES) or DTYPES[code] not in NUMPY_DTYPES:
            raise ModelError(f"{path}: variable {name} has an unsupported dtype code {code}")
        array = np.frombuffer(reader.block(size), dtype=NUMPY_DTYPES[DTYPES[code]])
        model.variables[name] = array.reshape(shape)
    for _ in range(reader.take("<I")):
        model.aliases.append((reader.string(), reader.string()))
    return model


def write_model_bin(model: ModelBin, path: Path) -> None:
    """Write ``model`` in format version 6 (the same bytes CTranslate2's converter writes)."""

    def string(value: str) -> bytes:
        raw = value.encode("utf-8")
        return struct.pack("<H", len(raw) + 1) + raw + b"\0"

    with open(path, "wb") as out:
        out.write(struct.pack("<I", BINARY_VERSION) + string(model.spec) + struct.pack("<II", model.revision, len(model.variables)))
        for name, value in model.variables.items():
            out.write(string(name) + struct.pack("<B", value.ndim))
            out.write(b"".join(struct.pack("<I", dim) for dim in value.shape))
            out.write(struct.pack("<BI", DTYPES.index(value.dtype.name), value.nbytes))
            out.write(value.tobytes())
        out.write(struct.pack("<I", len(model.aliases)))
        for alias, target in model.aliases:
            out.write(string(alias) + string(target))
