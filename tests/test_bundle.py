"""`captioner bundle`: made on one counter (one HOME), installed on another (a second HOME),
both caption a dev recording with the same text; a damaged bundle installs nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from captioner.engine import model_store
from tests.translate_support import make_packages

pytestmark = pytest.mark.model

WORDS = """\
- surface: 周南市
  reading: しゅうなんし
  en: Shunan City
- surface: 障害福祉課
  reading: しょうがいふくしか
  en: Disability Welfare Division
"""


def counter(root: Path) -> dict[str, str]:
    """The environment of one counter PC: its own config, data and cache folders."""
    env = dict(os.environ)
    for key in ("CAPTIONER_CONFIG", "CAPTIONER_ARGOS_INDEX", "ARGOS_PACKAGES_DIR"):
        env.pop(key, None)
    env.update(
        XDG_DATA_HOME=str(root / "data"), XDG_CONFIG_HOME=str(root / "config"), CAPTIONER_CACHE=str(root / "cache"),
        ARGOS_PACKAGES_DIR=str(root / "argos"),
    )  # fmt: skip
    return env


def captioner(env, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "captioner", *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def first_counter(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A counter set up by hand: an imported model, a translation package, words, a config."""
    root = tmp_path_factory.mktemp("counter1")
    env = counter(root)
    result = captioner(env, "model", "import", str(model_store.ensure_bundled()), "--name", "counter-base")
    assert result.returncode == 0, result.stderr
    packages = make_packages(root / "files")
    assert captioner(env, "translate", "install", str(packages["ja_en"])).returncode == 0
    words = root / "data" / "captioner" / "dictionary"
    words.mkdir(parents=True)
    (words / "city.yaml").write_text(WORDS, encoding="utf-8")
    config = root / "config" / "captioner" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("asr:\n  model: counter-base\ntranslate:\n  languages: [en]\n", encoding="utf-8")
    return root, env


@pytest.fixture(scope="module")
def bundle(first_counter, tmp_path_factory) -> Path:
    _, env = first_counter
    file = tmp_path_factory.mktemp("usb") / "city.zip"
    result = captioner(env, "bundle", str(file))
    assert result.returncode == 0, result.stderr
    assert "models counter-base; translation translate-ja_en 1.0; dictionary 1 files; config yes" in result.stdout
    return file


def test_bundle_contents(bundle):
    with zipfile.ZipFile(bundle) as archive:
        info = json.loads(archive.read("bundle.json"))
        names = set(archive.namelist())
    assert info["models"] == ["counter-base"] and info["translation_packages"] == ["translate-ja_en 1.0"]
    assert {"models/counter-base/model.bin", "models/counter-base/manifest.json", "translate/translate-ja_en.argosmodel",
            "dictionary/city.yaml", "config.yaml"} <= names  # fmt: skip
    assert set(info["files"]) == names - {"bundle.json"}


def test_a_bundle_installs_on_a_second_counter_and_captions_the_same(first_counter, bundle, eval_dir, tmp_path):
    _, env1 = first_counter
    env2 = counter(tmp_path / "counter2")
    installed = captioner(env2, "bundle", "install", str(bundle))
    assert installed.returncode == 0, installed.stderr
    assert "model counter-base" in installed.stdout and "translation translate-ja_en 1.0" in installed.stdout
    assert (tmp_path / "counter2" / "data" / "captioner" / "models" / "counter-base" / "manifest.json").is_file()
    assert (tmp_path / "counter2" / "data" / "captioner" / "dictionary" / "city.yaml").read_text(encoding="utf-8") == WORDS

    check = captioner(env2, "check", "--skip", "microphone", "--skip", "display", "--skip", "font", "--skip", "log")
    lines = {line.split()[1]: line for line in check.stdout.splitlines() if line[:2] in ("OK", "NG", "WA", "--")}
    assert lines["model"].startswith("OK") and "counter-base (manifest SHA-256 verified)" in lines["model"], check.stdout
    assert lines["translation"].startswith("OK") and "packages: translate-ja_en 1.0" in lines["translation"], check.stdout
    assert lines["dictionary"].startswith("OK") and "2 words" in lines["dictionary"]

    audio = str(eval_dir / "d01.wav")
    first = captioner(env1, "transcribe", audio)
    second = captioner(env2, "transcribe", audio)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.strip() and first.stdout == second.stdout
    assert "周南市" in first.stdout  # the bundled dictionary is used on both
    assert not (tmp_path / "counter2" / "cache" / "models").exists()  # the imported model, not the pip one


def test_a_damaged_bundle_installs_nothing(bundle, tmp_path):
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as archive:
        member = archive.getinfo("models/counter-base/model.bin")
    data[member.header_offset + 5_000_000] ^= 0xFF  # inside model.bin (stored, not compressed)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    root = tmp_path / "counter3"
    result = captioner(counter(root), "bundle", "install", str(damaged))
    assert result.returncode == 8 and "Traceback" not in result.stderr, result.stderr
    assert "models/counter-base/model.bin" in result.stderr and "copy the bundle again" in result.stderr
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
