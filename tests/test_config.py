"""Configuration loading: shipped defaults, overrides, and errors that name file, line and key."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from captioner.app.config import Config, default_config_path, load_config
from captioner.core.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def differences(options, shipped: dict, where: str = "") -> list[str]:
    """Where the shipped YAML and an options dataclass disagree, field by field, recursively."""
    names = {f.name for f in dataclasses.fields(options)}
    found = [f"{where}{name}: not in the YAML" for name in sorted(names - set(shipped))]
    found += [f"{where}{name}: no such option" for name in sorted(set(shipped) - names)]
    for name in sorted(names & set(shipped)):
        value = getattr(options, name)
        if dataclasses.is_dataclass(value):
            found += differences(value, shipped[name] or {}, f"{where}{name}.")
        elif value != shipped[name]:
            found.append(f"{where}{name}: the code says {value!r}, the YAML {shipped[name]!r}")
    return found


def test_shipped_yaml_sets_every_option_to_the_code_default():
    shipped = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    assert differences(Config(), shipped) == []


def test_the_comparison_sees_a_missing_key_an_unknown_key_and_another_value():
    shipped = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    del shipped["guard"]["known_phrases"]
    shipped["vad"]["hangvoer_ms"] = 300
    shipped["streaming"]["sentence_end_ms"] = 400
    assert differences(Config(), shipped) == [
        "guard.known_phrases: not in the YAML",
        "streaming.sentence_end_ms: the code says 500, the YAML 400",
        "vad.hangvoer_ms: no such option",
    ]


def test_user_file_overrides_defaults(tmp_path):
    config = load_config(write(tmp_path, "vad:\n  hangover_ms: 700\nasr:\n  language: en\n"))
    assert config.vad.hangover_ms == 700
    assert config.asr.language == "en"
    assert config.vad.frame_ms == 30  # untouched keys keep the shipped value


def test_unknown_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, "vad:\n  frame_ms: 20\n  hangvoer_ms: 300\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert f"{path}:3" in message and "vad.hangvoer_ms" in message and "hangover_ms" in message


def test_unknown_section_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'displya'"):
        load_config(write(tmp_path, "displya:\n  x: 1\n"))


@pytest.mark.parametrize(
    "text, key",
    [
        ("vad:\n  hangover_ms: long\n", "vad.hangover_ms"),
        ("vad:\n  hangover_ms: 1.5\n", "vad.hangover_ms"),
        ("asr:\n  allow_download: 1\n", "asr.allow_download"),
        ("asr:\n  model: [a, b]\n", "asr.model"),
        ("streaming:\n  partials: yes please\n", "streaming.partials"),
        ("guard:\n  known_phrases: [1, 2]\n", "guard.known_phrases"),
    ],
)
def test_wrong_type_names_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=f"'{key}"):
        load_config(write(tmp_path, text))


def test_invalid_value_is_rejected_with_the_section(tmp_path):
    with pytest.raises(ConfigError, match="vad: frame_ms must be 10, 20 or 30"):
        load_config(write(tmp_path, "vad:\n  frame_ms: 25\n"))


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "vad:\n  frame_ms: 20\n  bad: [unclosed\n")
    with pytest.raises(ConfigError, match=f"{path}:\\d+: YAML syntax error"):
        load_config(path)


def test_section_must_be_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="vad must be a mapping"):
        load_config(write(tmp_path, "vad: 3\n"))


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    assert load_config(write(tmp_path, "")) == Config()


def test_user_config_location_is_used_when_present(tmp_path, monkeypatch):
    user = tmp_path / "user.yaml"
    user.write_text("vad:\n  aggressiveness: 3\n", encoding="utf-8")
    monkeypatch.setenv("CAPTIONER_CONFIG", str(user))
    assert load_config().vad.aggressiveness == 3
