"""The configuration aggregate: the shipped YAML defaults, overlaid by the user's file.

One section per engine part and stage, each its own options dataclass; every key is checked
(:mod:`captioner.core.yamlconfig`): an unknown key, a wrong type or an invalid value is a
ConfigError that names the file, the line and the dotted key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from captioner.convlog.log import ConversationLogOptions
from captioner.core.errors import ConfigError
from captioner.core.paths import config_file
from captioner.core.yamlconfig import apply_yaml
from captioner.engine.audio import AudioOptions
from captioner.engine.guard import GuardOptions
from captioner.engine.recognizer import AsrOptions
from captioner.engine.streaming import StreamingOptions
from captioner.engine.vad import VadOptions
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
    return config_file()


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
