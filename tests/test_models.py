"""`captioner model import/list/export/download` with the real Whisper base model folder:
copied, zipped, with a file missing, with a corrupted model.bin; offline download."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from captioner.engine import model_store


@pytest.fixture(scope="module")
def base_folder() -> Path:
    """The assembled bundled model (the cache folder `captioner model` makes)."""
    return model_store.ensure_bundled()


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("CAPTIONER_CONFIG", None)
    return env


def captioner(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "captioner", "model", *args], capture_output=True, text=True, timeout=300, env=env)


def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "captioner" / "models"


def assert_nothing_installed(tmp_path: Path) -> None:
    folder = models_dir(tmp_path)
    assert not folder.exists() or list(folder.iterdir()) == [], list(folder.iterdir())


def one_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 3, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("captioner: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def copy_model(base_folder: Path, to: Path) -> Path:
    shutil.copytree(base_folder, to)
    return to


def flip_bytes(path: Path, offset: int = 50_000_000) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(4)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def test_import_a_copied_folder_and_use_it_by_its_short_name(base_folder, home, tmp_path):
    source = copy_model(base_folder, tmp_path / "usb" / "faster-whisper-base")
    result = captioner(home, "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "imported base (" in result.stdout and "same model as the bundled Whisper base" in result.stdout
    installed = models_dir(tmp_path) / "base"
    manifest = json.loads((installed / "manifest.json").read_text())
    assert manifest["files"]["model.bin"]["sha256"] == model_store.BUNDLED_SHA256
    assert set(manifest["files"]) == {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}

    result = captioner(home, "import", str(source), "--name", "counter-base")
    assert result.returncode == 0, result.stderr
    again = captioner(home, "import", str(source), "--name", "counter-base")
    assert "already installed" in one_error(again) and "--force" in one_error(again)

    listing = captioner(home, "list", "--verify", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["counter-base"]["status"] == "verified" and rows["counter-base"]["bytes"] > 140_000_000

    env_backup = dict(os.environ)
    try:
        os.environ["XDG_DATA_HOME"] = home["XDG_DATA_HOME"]
        assert model_store.resolve_model("counter-base") == str(models_dir(tmp_path) / "counter-base")
    finally:
        os.environ.clear()
        os.environ.update(env_backup)

    flip_bytes(models_dir(tmp_path) / "counter-base" / "model.bin")  # damaged after import
    listing = captioner(home, "list", "--verify")
    assert listing.returncode == 1
    assert "model.bin does not match its SHA-256 in the manifest (corrupted)" in listing.stdout


def test_export_then_import_the_zip_on_another_pc(base_folder, home, tmp_path):
    source = copy_model(base_folder, tmp_path / "src")
    assert captioner(home, "import", str(source), "--name", "counter-base").returncode == 0
    exported = captioner(home, "export", "counter-base", str(tmp_path / "counter-base.zip"))
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(tmp_path / "counter-base.zip") as archive:
        assert sorted(archive.namelist()) == sorted(
            f"counter-base/{n}" for n in ("manifest.json", "model.bin", "config.json", "tokenizer.json", "vocabulary.json")
        )
    other = dict(home, XDG_DATA_HOME=str(tmp_path / "other"))
    result = captioner(other, "import", str(tmp_path / "counter-base.zip"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "other" / "captioner" / "models" / "counter-base" / "model.bin").is_file()

    bundled = captioner(other, "export", "base", str(tmp_path / "base.zip"))  # the assembled bundled model
    assert bundled.returncode == 0, bundled.stderr


def test_import_a_plain_zip_of_the_folder(base_folder, home, tmp_path):
    file = tmp_path / "whisper.zip"
    with zipfile.ZipFile(file, "w") as archive:
        for path in base_folder.iterdir():
            archive.write(path, f"whisper-ja/{path.name}")
    result = captioner(home, "import", str(file))
    assert result.returncode == 0, result.stderr
    assert (models_dir(tmp_path) / "whisper-ja" / "manifest.json").is_file()


def test_a_missing_file_is_named_and_nothing_installed(base_folder, home, tmp_path):
    source = copy_model(base_folder, tmp_path / "src")
    (source / "tokenizer.json").unlink()
    line = one_error(captioner(home, "import", str(source)))
    assert "not a complete CTranslate2 Whisper model (missing tokenizer.json)" in line
    (source / "vocabulary.json").unlink()
    assert "missing tokenizer.json, vocabulary.json or vocabulary.txt" in one_error(captioner(home, "import", str(source)))
    assert_nothing_installed(tmp_path)


def test_a_corrupted_model_bin_is_refused(base_folder, home, tmp_path):
    source = copy_model(base_folder, tmp_path / "src")
    flip_bytes(source / "model.bin")  # same size, other bytes: CTranslate2 would load it
    line = one_error(captioner(home, "import", str(source)))
    assert "has the size of Whisper base (the bundled model) but not its SHA-256" in line
    assert_nothing_installed(tmp_path)

    with open(source / "model.bin", "r+b") as f:  # truncated (a copy that stopped)
        f.truncate(60_000_000)
    line = one_error(captioner(home, "import", str(source)))
    assert "model.bin does not load" in line
    assert_nothing_installed(tmp_path)


def test_a_zip_whose_model_bin_differs_from_its_manifest_is_refused(base_folder, home, tmp_path):
    assert captioner(home, "export", "base", str(tmp_path / "base.zip")).returncode == 0
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(tmp_path / "base.zip") as archive:
        archive.extractall(unpacked)
    flip_bytes(unpacked / "base" / "model.bin", offset=1000)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(damaged, "w") as archive:
        for path in (unpacked / "base").iterdir():
            archive.write(path, f"base/{path.name}")
    line = one_error(captioner(home, "import", str(damaged), "--name", "b2"))
    assert "model.bin does not match its SHA-256 in the manifest (corrupted)" in line and "nothing was installed" in line
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes((tmp_path / "base.zip").read_bytes()[:80_000_000])
    assert "not a zip archive" in one_error(captioner(home, "import", str(truncated), "--name", "b3"))
    assert_nothing_installed(tmp_path)


def test_download_offline_says_what_to_do(home, tmp_path):
    with socket.socket() as probe:  # a loopback port nobody listens on stands in for the hub
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(home, HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_HUB_CACHE=str(tmp_path / "hf"))
    env.pop("HF_HUB_OFFLINE", None)
    line = one_error(captioner(env, "download", "small", "--to", str(tmp_path / "usb")))
    assert "could not download 'small'" in line and "offline" in line
    assert "captioner model download small --to DIR" in line and "captioner model import DIR/small" in line
    assert not (tmp_path / "usb" / "small").exists()


def test_plain_model_and_model_show_still_prepare_the_configured_model(home, tmp_path):
    env = dict(home, CAPTIONER_CACHE=str(tmp_path / "cache"))
    for args in ((), ("show",)):
        result = captioner(env, *args)
        assert result.returncode == 0, result.stderr
        described = json.loads(result.stdout)
        assert described["model"] == "base" and described["model_path"].startswith(str(tmp_path / "cache"))


def test_the_viewer_names_the_model_with_its_licence_and_attribution(base_folder, tmp_path):
    from captioner.app.models import MANIFEST, model_about

    assert model_about({"model": "base", "backend": "whisper", "model_path": str(base_folder)}).endswith("licence MIT · Whisper by OpenAI")
    folder = tmp_path / "parakeet-ja"
    folder.mkdir()
    manifest = {"name": "parakeet-ja", "backend": "sherpa", "licence": "CC-BY-4.0", "attribution": "Parakeet-tdt_ctc-0.6b-ja by NVIDIA", "files": {}}
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    about = model_about({"model": "parakeet-ja", "backend": "sherpa", "model_path": str(folder)})
    assert "parakeet-ja (sherpa)" in about and "CC-BY-4.0" in about and "by NVIDIA" in about
