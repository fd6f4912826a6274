"""Assembling, verifying and resolving the speech model (real files, no network)."""

from __future__ import annotations

import pytest

from captioner.core.errors import ModelError
from captioner.core.files import sha256_file
from captioner.engine import model_store


def test_bundled_model_is_assembled_verified_and_reassembled_when_corrupt(tmp_path):
    folder = tmp_path / "model"
    seen = []
    model_store.ensure_bundled(folder, progress=lambda done, total: seen.append((done, total)))
    assert sha256_file(folder / "model.bin") == model_store.BUNDLED_SHA256
    for name in model_store.BUNDLED_SIDE_FILES:
        assert (folder / name).is_file()
    assert seen and seen[-1][0] == seen[-1][1]
    assert not (folder / "model.bin.partial").exists()

    with open(folder / "model.bin", "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02\x03")
    assert sha256_file(folder / "model.bin") != model_store.BUNDLED_SHA256
    model_store.ensure_bundled(folder)
    assert sha256_file(folder / "model.bin") == model_store.BUNDLED_SHA256


def test_model_folder_with_missing_files_is_named(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="missing model.bin"):
        model_store.resolve_model(str(tmp_path))
    with pytest.raises(ModelError, match="does not exist"):
        model_store.resolve_model(str(tmp_path / "nope"))


def test_unknown_model_offline_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelError, match="allow_download") as error:
        model_store.resolve_model("small", allow_download=False)
    assert "not on this computer" in str(error.value)


def test_default_name_resolves_to_the_bundled_model(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPTIONER_CACHE", str(tmp_path))
    path = model_store.resolve_model("base")
    assert path.startswith(str(tmp_path))
