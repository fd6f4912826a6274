"""Where the product keeps its files: one rule for the config, data and cache folders.

| folder | Linux (XDG) | Windows |
|---|---|---|
| config | ``$XDG_CONFIG_HOME/captioner`` (``~/.config/captioner``) | ``%APPDATA%\\captioner`` |
| data (dictionary, logs, packages, web secret) | ``$XDG_DATA_HOME/captioner`` (``~/.local/share/captioner``) | ``%LOCALAPPDATA%\\captioner`` |
| cache (assembled models) | ``$XDG_CACHE_HOME/captioner`` (``~/.cache/captioner``) | ``%LOCALAPPDATA%\\captioner\\cache`` |

An ``XDG_*`` variable wins on every system. ``CAPTIONER_CONFIG`` names the config *file*,
``CAPTIONER_DATA`` and ``CAPTIONER_CACHE`` the other two folders. Data stays on this PC
(``LOCALAPPDATA`` does not roam with a Windows profile): conversation logs are personal data.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "captioner"


def config_file() -> Path:
    """The user's configuration file (``$CAPTIONER_CONFIG`` overrides it)."""
    if env := os.environ.get("CAPTIONER_CONFIG"):
        return Path(env)
    return _folder("XDG_CONFIG_HOME", "APPDATA", Path(".config")) / "config.yaml"


def data_dir() -> Path:
    """The user's data folder (``$CAPTIONER_DATA`` overrides it)."""
    if env := os.environ.get("CAPTIONER_DATA"):
        return Path(env)
    return _folder("XDG_DATA_HOME", "LOCALAPPDATA", Path(".local") / "share")


def cache_dir() -> Path:
    """The user's cache folder (``$CAPTIONER_CACHE`` overrides it)."""
    if env := os.environ.get("CAPTIONER_CACHE"):
        return Path(env)
    if os.environ.get("XDG_CACHE_HOME") or not os.environ.get("LOCALAPPDATA"):
        return _folder("XDG_CACHE_HOME", "", Path(".cache"))
    return Path(os.environ["LOCALAPPDATA"]) / APP / "cache"


def _folder(xdg: str, windows: str, home_relative: Path) -> Path:
    base = os.environ.get(xdg) or (os.environ.get(windows) if windows else None)
    return Path(base or Path.home() / home_relative) / APP
