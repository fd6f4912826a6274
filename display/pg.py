"""pygame, imported once with its greeting hidden; a clear error when it is missing."""

from __future__ import annotations

import os

from captioner.core.errors import DisplayUnavailable

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
try:
    import pygame
    import pygame.freetype
except ImportError as e:  # pragma: no cover - depends on the installation
    raise DisplayUnavailable("pygame is not installed (pip install pygame); use --no-display") from e

__all__ = ["pygame"]
