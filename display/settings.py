"""The user's display settings file: what the live keys changed, loaded over the config at start.

It lives next to the user's config file (``display-settings.yaml`` beside
``captioner.config.user_config_path()``) and holds only the ``display:`` keys the keys
change. Delete it to go back to the configuration's values.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
from pathlib import Path

import yaml

from captioner.errors import ConfigError
from display.options import LIVE_KEYS, DisplayOptions

log = logging.getLogger(__name__)
FILE_NAME = "display-settings.yaml"


def settings_path() -> Path:
    from captioner.config import user_config_path

    return user_config_path().with_name(FILE_NAME)


def apply_saved(config, path: Path | None = None) -> Path:
    """Overlay the saved settings onto ``config`` (a broken file is reported and ignored)."""
    from captioner.config import apply_yaml

    path = path or settings_path()
    if path.is_file():
        scratch = type(config)()  # only the display section is taken from this file
        scratch.display = copy.deepcopy(config.display)
        try:
            apply_yaml(scratch, path)
        except ConfigError as e:
            log.warning("ignoring the saved display settings: %s", e)
        else:
            config.display = scratch.display
    return path


def save(options: DisplayOptions, path: Path) -> None:
    """Write the live-control settings atomically (errors are logged, never raised)."""
    data = {"display": {key: getattr(options, key) for key in LIVE_KEYS}}
    text = "# Written by the caption window's keys; delete this file to use config.yaml's values.\n"
    text += yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".display-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        log.warning("cannot save the display settings to %s: %s", path, e)
