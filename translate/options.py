"""Options of the translation stage (the ``translate:`` section of the configuration)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from captioner.core.paths import data_dir

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-zA-Z]{2,4})?$")


@dataclass
class TranslateOptions:
    """What to translate into, and where the language packages are.

    ``languages`` empty (the default) turns translation off. Packages are looked up in
    ``packages_dir`` ("" = the user's data folder, see :func:`default_packages_dir`) and,
    with ``argos_packages``, in the folder where argostranslate installs its own.
    """

    languages: list[str] = field(default_factory=list)
    source: str = "ja"
    pivot: str = "en"
    packages_dir: str = ""
    argos_packages: bool = True
    partials: bool = False
    cache_size: int = 512
    beam_size: int = 2
    cpu_threads: int = 1

    def validate(self) -> None:
        for code in [*self.languages, self.source, self.pivot]:
            if not LANGUAGE_CODE.match(code):
                raise ValueError(f"'{code}' is not a language code (ISO 639: en, vi, zh, pt, tl, ne, ...)")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("languages lists a language twice")
        if self.source in self.languages:
            raise ValueError(f"languages must not include the source language '{self.source}'")
        if self.cache_size < 0:
            raise ValueError("cache_size must be 0 (off) or more")
        if not 1 <= self.beam_size <= 8:
            raise ValueError("beam_size must be between 1 and 8")
        if not 1 <= self.cpu_threads <= 64:
            raise ValueError("cpu_threads must be between 1 and 64")

    def package_dirs(self) -> list[Path]:
        """Where to look for installed packages, ours first (the first one is where installs go)."""
        dirs = [Path(self.packages_dir).expanduser() if self.packages_dir else default_packages_dir()]
        if self.argos_packages:
            dirs.append(argos_packages_dir())
        return dirs


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def default_packages_dir() -> Path:
    """``translate/`` in the user's data folder (:mod:`captioner.core.paths`)."""
    return data_dir() / "translate"


def argos_packages_dir() -> Path:
    """Where argostranslate installs packages (``$ARGOS_PACKAGES_DIR`` overrides it, as in argostranslate)."""
    if env := os.environ.get("ARGOS_PACKAGES_DIR"):
        return Path(env)
    return _data_home() / "argos-translate" / "packages"
