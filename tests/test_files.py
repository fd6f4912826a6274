"""Writing a file whole or not at all, and the SHA-256 of a file (core/files.py)."""

from __future__ import annotations

import hashlib
import io
import os
import stat

import pytest

from captioner.core.files import atomic_write, replacing, sha256_file, sha256_stream


def test_replacing_renames_the_written_file_over_the_old_one(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with replacing(target) as temporary:
        assert temporary.parent == target.parent and temporary != target
        temporary.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    assert os.listdir(target.parent) == ["out.txt"]


def test_replacing_leaves_the_old_file_when_the_block_fails(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("broke off")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_write_sets_the_mode_or_follows_the_umask(tmp_path):
    secret, plain = tmp_path / "secret", tmp_path / "plain"
    atomic_write(secret, b"key", mode=0o600)
    atomic_write(plain, "text")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask
    assert secret.read_bytes() == b"key" and plain.read_text() == "text"


def test_sha256_of_a_file_and_of_a_stream_longer_than_one_chunk(tmp_path):
    data = os.urandom(3 * (1 << 20) + 5)
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == expected
    assert sha256_stream(io.BytesIO(data)) == expected
