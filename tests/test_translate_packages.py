"""Language packages as a user handles them: `captioner translate install/list/remove`
(download: test_translate_download.py),
bad package files, packages argostranslate installed, and the configuration section."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from captioner.app.config import load_config
from captioner.core.errors import ConfigError
from tests.translate_support import EN_LINES, JA_LINES, make_packages
from translate.packages import PackageError, PackageStore
from captioner.app.bench.tiny_argos import build_package
from translate.translators import find_route


@pytest.fixture(scope="module")
def package_files(tmp_path_factory) -> dict[str, Path]:
    return make_packages(tmp_path_factory.mktemp("packages"))


@pytest.fixture
def home(tmp_path) -> dict[str, str]:
    """An environment with its own data folders and a configuration asking for en, vi, zh."""
    config = tmp_path / "config.yaml"
    config.write_text("translate:\n  languages: [en, vi, zh]\n", encoding="utf-8")
    env = dict(os.environ)
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), ARGOS_PACKAGES_DIR=str(tmp_path / "argos"), CAPTIONER_CONFIG=str(config))
    return env


def captioner(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "captioner", "translate", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_install_list_and_remove_with_the_cli(home, package_files, tmp_path):
    result = captioner(home, "install", str(package_files["ja_en"]), str(package_files["en_vi"]))
    assert result.returncode == 0, result.stderr
    assert "installed translate-ja_en 1.0 (ja→en)" in result.stdout
    assert "second step of a pivot (ja→en→vi)" in result.stdout
    assert (tmp_path / "data" / "captioner" / "translate" / "translate-ja_en" / "model" / "model.bin").is_file()

    listing = captioner(home, "list")
    assert listing.returncode == 0, listing.stderr
    assert "ja→en  translate-ja_en 1.0" in listing.stdout
    assert "en: ja→en (translate-ja_en 1.0)" in listing.stdout
    assert "vi: ja→en→vi, pivot through en (translate-ja_en 1.0 + translate-en_vi 1.0)" in listing.stdout
    assert "zh: MISSING" in listing.stdout and "translate-ja_zh-*.argosmodel" in listing.stdout

    data = json.loads(captioner(home, "list", "--json").stdout)
    assert {p["name"] for p in data["packages"]} == {"translate-ja_en 1.0", "translate-en_vi 1.0"}
    assert "pivot through en" in data["languages"]["vi"]["route"] and "missing" in data["languages"]["zh"]

    removed = captioner(home, "remove", "en", "vi")
    assert removed.returncode == 0 and "removed translate-en_vi 1.0" in removed.stdout
    assert "vi: MISSING" in captioner(home, "list").stdout
    again = captioner(home, "remove", "en_vi")
    assert again.returncode == 7 and "no installed package matches 'en_vi'" in again.stderr


def test_installing_a_newer_version_replaces_the_pair(tmp_path):
    store = PackageStore([tmp_path / "installed"])
    store.install(build_package(tmp_path / "a.argosmodel", "ja", "en", JA_LINES, package_version="1.0"))
    store.install(build_package(tmp_path / "b.argosmodel", "ja", "en", JA_LINES, package_version="1.1"))
    assert [p.name for p in store.packages()] == ["translate-ja_en 1.1"]


def test_packages_installed_by_argostranslate_are_used_but_not_removed(home, package_files, tmp_path):
    with zipfile.ZipFile(package_files["ja_zh"]) as archive:  # what argostranslate's install does
        archive.extractall(tmp_path / "argos")
    listing = captioner(home, "list")
    assert "ja→zh  translate-ja_zh 1.0" in listing.stdout and "[argostranslate]" in listing.stdout
    assert "zh: ja→zh (translate-ja_zh 1.0)" in listing.stdout
    removed = captioner(home, "remove", "ja_zh")
    assert removed.returncode == 7 and "installed by argostranslate" in removed.stderr


def corrupt_model(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            new.writestr(item, b"\x00garbage" * 10 if item.filename.endswith("model.bin") else data)
    return target


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p, files: _write(p, b"PK but not really a zip"), "not an Argos Translate package (an .argosmodel file is a zip"),
        (lambda p, files: _write(p, files["ja_en"].read_bytes()[:5000]), "not an Argos Translate package"),
        (lambda p, files: _zip(p, {"notes/readme.txt": "hello"}), "expected one folder with metadata.json"),
        (lambda p, files: _zip(p, {"pkg/metadata.json": "{not json"}), "metadata.json is not valid JSON"),
        (lambda p, files: _zip(p, {"pkg/metadata.json": '{"from_code": "ja"}'}), "metadata.json has no 'to_code'"),
        (lambda p, files: _zip(p, {"pkg/metadata.json": '{"type": "sbd", "from_code": "ja", "to_code": "ja"}'}), "a 'sbd' package"),
        (lambda p, files: _zip(p, {"pkg/metadata.json": '{"from_code": "ja", "to_code": "en"}'}), "incomplete translation package (no model/model.bin)"),
        (lambda p, files: _zip(p, {"../evil/metadata.json": "{}"}), "unsafe path"),
        (lambda p, files: corrupt_model(files["ja_en"], p), "the CTranslate2 model does not load"),
    ],
    ids=["not-zip", "truncated", "foreign-zip", "bad-json", "no-to-code", "wrong-type", "no-model", "zip-slip", "corrupt-model"],
)
def test_bad_package_files_are_refused_and_nothing_is_installed(tmp_path, package_files, make, message):
    file = make(tmp_path / "bad.argosmodel", package_files)
    store = PackageStore([tmp_path / "installed"])
    with pytest.raises(PackageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.install(file)
    assert store.packages() == []
    assert not any((tmp_path / "installed").glob(".installing-*"))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_bad_file_on_the_cli_is_one_line_and_exit_code_7(home, tmp_path):
    bad = tmp_path / "x.argosmodel"
    bad.write_text("hello", encoding="utf-8")
    result = captioner(home, "install", str(bad))
    assert result.returncode == 7
    assert result.stderr.strip().splitlines()[-1].startswith("captioner: error: ")
    assert "not an Argos Translate package" in result.stderr


def test_a_package_for_the_wrong_direction_is_named_in_the_message(tmp_path):
    store = PackageStore([tmp_path / "installed"])
    store.install(build_package(tmp_path / "en_ja.argosmodel", "en", "ja", EN_LINES))
    with pytest.raises(PackageError) as error:
        find_route(store, "ja", "en")
    message = str(error.value)
    assert "no ja→en translation package: install translate-ja_en-*.argosmodel" in message
    assert "translate-en_ja 1.0 translates the other way (en→ja)" in message


def test_install_warns_about_a_package_that_will_not_be_used(home, tmp_path):
    file = build_package(tmp_path / "ko_ja.argosmodel", "ko", "ja", ["안녕하세요."])
    result = captioner(home, "install", str(file))
    assert result.returncode == 0 and "wrong direction?" in result.stdout


def test_broken_folders_show_as_problems_in_the_listing(home, package_files, tmp_path):
    (tmp_path / "argos" / "leftover").mkdir(parents=True)
    result = captioner(home, "list")
    assert result.returncode == 0
    assert "problem: " in result.stdout and "leftover: not a translation package (no metadata.json)" in result.stdout


def test_translate_section_of_the_configuration(tmp_path):
    def load(text):
        path = tmp_path / "c.yaml"
        path.write_text(text, encoding="utf-8")
        return load_config(path)

    config = load("translate:\n  languages: [en, vi, pt-BR]\n  partials: true\n")
    assert config.translate.languages == ["en", "vi", "pt-BR"] and config.translate.partials
    assert config.translate.package_dirs()[0] == Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "captioner" / "translate"
    with pytest.raises(ConfigError, match="'English' is not a language code"):
        load("translate:\n  languages: [English]\n")
    with pytest.raises(ConfigError, match="must not include the source language 'ja'"):
        load("translate:\n  languages: [en, ja]\n")
    with pytest.raises(ConfigError, match="'translate.languages'"):
        load("translate:\n  languages: en\n")
    with pytest.raises(ConfigError, match="beam_size must be between 1 and 8"):
        load("translate:\n  beam_size: 0\n")
