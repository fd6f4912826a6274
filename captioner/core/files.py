"""Writing files so that a crash or power cut leaves the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data``: a temporary file in the same folder, fsync, then a rename.

    ``mode`` sets the file's permissions (e.g. 0o600 for a secret) before it becomes visible.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            if mode is not None:
                os.chmod(temporary, mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def unsafe_member(name: str) -> bool:
    """True for an archive member that would land outside the folder it is extracted into."""
    return name.startswith("/") or "\\" in name or ".." in PurePosixPath(name).parts
