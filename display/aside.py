"""Beside the captions in the caption window: a registered word's picture for a while, or the QR
code of the resident's phone page.

One at a time: a new picture replaces the last one, the QR code (until the phone opened it or
it expired) goes before any picture. While something shows, the window lays its caption lines
out narrower so the panel never covers text; the panel is drawn on the window's background
(black stays see-through on a transparent panel) with a thin frame.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dictionary.pictures import Picture
from display.highlights import Highlights
from display.pg import pygame

log = logging.getLogger(__name__)
WIDTH = 0.26  # of the window's width
QR_TITLE = "この会話をスマートフォンへ"


@dataclass(frozen=True)
class Shown:
    """What the panel shows: a picture (``picture``) or the QR code of ``url``."""

    picture: Picture | None = None
    url: str | None = None

    @property
    def title(self) -> str:
        return self.picture.word if self.picture is not None else QR_TITLE


class Aside:
    """The panel's state (set from any thread, read by the window's loop)."""

    def __init__(self, highlights: Highlights | None = None, seconds: float = 12.0) -> None:
        self.highlights = highlights
        self.seconds = seconds
        self._lock = threading.Lock()
        self._picture: tuple[Picture, float] | None = None  # and until when (the window's clock)
        self._url: str | None = None

    def caption(self, text: str, now: float) -> bool:
        """A final's text: show the picture of its registered word (True when one shows now)."""
        picture = self.highlights.picture(text) if self.highlights is not None and text else None
        if picture is None:
            return False
        with self._lock:
            self._picture = (picture, now + self.seconds)
        return True

    def qr(self, url: str | None) -> None:
        with self._lock:
            self._url = url

    def current(self, now: float) -> Shown | None:
        with self._lock:
            if self._url:
                return Shown(url=self._url)
            if self._picture is not None and now < self._picture[1]:
                return Shown(picture=self._picture[0])
            self._picture = None
            return None

    def image(self, shown: Shown, size: tuple[int, int], colour, font: Callable[[int], Any]):
        """The panel's content scaled into ``size`` (a surface), or None when it cannot be drawn."""
        width, height = size
        if shown.url:
            return _qr_surface(shown.url, min(width, height))
        picture = shown.picture
        if picture.is_card:
            return _card(picture.value, width, height, colour, font)
        path = self.highlights.pictures.path(picture.value) if self.highlights and self.highlights.pictures else None
        if path is None:
            return None
        try:
            image = pygame.image.load(str(path))
        except (pygame.error, OSError) as e:
            log.warning("cannot show picture %s: %s", path, e)
            return None
        scale = min(width / image.get_width(), height / image.get_height())
        return pygame.transform.smoothscale(image, (max(1, int(image.get_width() * scale)), max(1, int(image.get_height() * scale))))


def _qr_surface(url: str, side: int):
    import segno

    matrix = [list(row) for row in segno.make(url, error="m", micro=False).matrix]
    modules = len(matrix) + 4  # a quiet zone of two modules
    cell = max(1, side // modules)
    surface = pygame.Surface((cell * modules, cell * modules))
    surface.fill((255, 255, 255))  # a QR code needs its light modules light, even on a see-through panel
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                surface.fill((0, 0, 0), ((x + 2) * cell, (y + 2) * cell, cell, cell))
    return surface


def _card(text: str, width: int, height: int, colour, font: Callable[[int], Any]):
    """A text card: the words as large as fit, in a frame."""
    size = max(8, height // 3)
    while size > 8 and font(size).size(text)[0] > width * 0.86:
        size -= 2
    rendered = font(size).render(text, True, colour)
    surface = pygame.Surface((width, min(height, rendered.get_height() * 2)))
    surface.set_colorkey((0, 0, 0))
    thick = max(2, size // 10)
    pygame.draw.rect(surface, colour, surface.get_rect(), width=thick, border_radius=thick * 3)
    surface.blit(rendered, ((width - rendered.get_width()) // 2, (surface.get_height() - rendered.get_height()) // 2))
    return surface
