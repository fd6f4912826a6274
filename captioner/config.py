"""Configuration: the shipped YAML defaults, overlaid by the user's file, mapped onto dataclasses.

Every key is checked: an unknown key, a wrong type or an invalid value is a ConfigError that
names the file, the line and the dotted key. Nothing falls back silently to a default.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from captioner.asr import AsrOptions
from captioner.audio import AudioOptions
from captioner.convlog import ConversationLogOptions
from captioner.errors import ConfigError
from captioner.guard import GuardOptions
from captioner.streaming import StreamingOptions
from captioner.vad import VadOptions
from dictionary.options import DictionaryOptions
from display.options import DisplayOptions
from translate.options import TranslateOptions
from web.options import WebOptions


@dataclass
class Config:
    """The whole configuration, one section per stage."""

    audio: AudioOptions = field(default_factory=AudioOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    asr: AsrOptions = field(default_factory=AsrOptions)
    streaming: StreamingOptions = field(default_factory=StreamingOptions)
    guard: GuardOptions = field(default_factory=GuardOptions)
    dictionary: DictionaryOptions = field(default_factory=DictionaryOptions)
    translate: TranslateOptions = field(default_factory=TranslateOptions)
    display: DisplayOptions = field(default_factory=DisplayOptions)
    conversation_log: ConversationLogOptions = field(default_factory=ConversationLogOptions)
    web: WebOptions = field(default_factory=WebOptions)


def default_config_path() -> Path:
    """The YAML shipped with the package (``config/default.yaml``)."""
    return Path(str(resources.files("config") / "default.yaml"))


def user_config_path() -> Path:
    """Where a user's own settings live (``$CAPTIONER_CONFIG`` overrides it)."""
    if env := os.environ.get("CAPTIONER_CONFIG"):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA")
    return Path(base or Path.home() / ".config") / "captioner" / "config.yaml"


def load_config(path: str | Path | None = None) -> Config:
    """Shipped defaults, then the user's file (or ``path``), validated."""
    config = Config()
    files = [default_config_path()]
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError(f"{path}: configuration file not found")
        files.append(Path(path))
    elif user_config_path().is_file():
        files.append(user_config_path())
    for file in files:
        apply_yaml(config, file)
    return config


def apply_yaml(config: Config, file: Path) -> None:
    """Overlay one YAML file onto ``config`` in place."""
    try:
        text = file.read_text(encoding="utf-8")
        root = yaml.compose(text)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise ConfigError(f"{where}: YAML syntax error: {getattr(e, 'problem', e)}") from e
    if root is None:
        return
    _apply_node(config, root, file, "")


def _apply_node(target: Any, node: yaml.Node, file: Path, prefix: str) -> None:
    where = f"{file}:{node.start_mark.line + 1}"
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'the file'} must be a mapping of keys to values")
    hints = typing.get_type_hints(type(target))
    names = {f.name for f in dataclasses.fields(target)}
    for key_node, value_node in node.value:
        key = key_node.value
        dotted = f"{prefix}{key}"
        line = f"{file}:{key_node.start_mark.line + 1}"
        if key not in names:
            raise ConfigError(
                f"{line}: unknown key '{dotted}' (valid here: {', '.join(sorted(names))})"
            )
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            _apply_node(getattr(target, key), value_node, file, f"{dotted}.")
            continue
        value = yaml.safe_load(yaml.serialize(value_node))
        setattr(target, key, _check_type(value, hint, dotted, line))
    if hasattr(target, "validate"):
        try:
            target.validate()
        except ValueError as e:
            raise ConfigError(f"{where}: {prefix.rstrip('.') or 'config'}: {e}") from e


def _check_type(value: Any, hint: Any, dotted: str, line: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _check_type(value, option, dotted, line)
            except ConfigError:
                continue
        raise ConfigError(f"{line}: '{dotted}' must be {_describe(hint)}, not {value!r}")
    if hint is type(None):
        if value is None:
            return None
    elif origin is list:
        if isinstance(value, list):
            return [_check_type(v, args[0], f"{dotted}[{i}]", line) for i, v in enumerate(value)]
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint in (str, bool):
        if isinstance(value, hint):
            return value
    else:
        raise TypeError(f"unsupported config type {hint} for {dotted}")
    raise ConfigError(f"{line}: '{dotted}' must be {_describe(hint)}, not {value!r}")


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if origin is list:
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    names = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
    return names.get(hint, "null" if hint is type(None) else str(hint))
