"""The user's display settings file: what the live keys changed, loaded over the config at start.

It lives next to the user's config file (``display-settings.yaml`` beside
``captioner.core.paths.config_file()``) and holds only the ``display:`` keys the keys
change. Delete it to go back to the configuration's values.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import yaml

from captioner.core.errors import ConfigError
from captioner.core.files import atomic_write
from captioner.core.paths import config_file
from captioner.core.yamlconfig import apply_yaml
from display.options import LIVE_KEYS, DisplayOptions

log = logging.getLogger(__name__)
FILE_NAME = "display-settings.yaml"


def settings_path() -> Path:
    return config_file().with_name(FILE_NAME)


def apply_saved(config, path: Path | None = None) -> Path:
    """Overlay the saved settings onto ``config`` (a broken file is reported and ignored)."""
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
        atomic_write(path, text)
    except OSError as e:
        log.warning("cannot save the display settings to %s: %s", path, e)
