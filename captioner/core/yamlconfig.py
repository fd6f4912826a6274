"""Options files in YAML mapped onto nested dataclasses, every key checked.

An unknown key, a wrong type or an invalid value (a section's ``validate()`` raising
ValueError) is a :class:`ConfigError` naming the file, the line and the dotted key. Nothing
falls back silently to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from captioner.core.errors import ConfigError


def apply_yaml(config: Any, file: Path) -> None:
    """Overlay one YAML file onto ``config`` (a dataclass of dataclasses) in place."""
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
