"""Writing files so that a crash or power cut leaves the old file or the new one, never half;
and the SHA-256 of a file, read in chunks."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO

CHUNK = 1 << 20


@contextmanager
def replacing(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; when the block ends normally it is synced and
    renamed over ``path``, when it raises it is removed and ``path`` is left as it was.

    For files a library writes by name (a zip archive, a WAV file, a download). ``mode`` sets the
    file's permissions (e.g. 0o600 for a secret) before it becomes visible; otherwise the umask's.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600 if mode is not None else 0o666))
    try:
        if mode is not None:
            os.chmod(temporary, mode)
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` through :func:`replacing`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with replacing(path, mode=mode) as temporary:
        temporary.write_bytes(data)


def sha256_stream(stream: BinaryIO) -> str:
    """The SHA-256 (hex) of everything left in a binary stream, read in chunks."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a file."""
    with open(path, "rb") as stream:
        return sha256_stream(stream)


def unsafe_member(name: str) -> bool:
    """True for an archive member that would land outside the folder it is extracted into."""
    return name.startswith("/") or "\\" in name or ".." in PurePosixPath(name).parts
