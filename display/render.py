"""Drawing laid-out rows onto a pygame surface (fonts, colours, furigana, labels, status)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from display.fonts import (
    FontChoice,
    GlyphFilter,
    companion_font,
    fallback_fonts,
    missing_glyphs,
)
from display.geometry import Geometry
from display.layout import Row
from display.pg import pygame
from display.theme import RGB, Theme

log = logging.getLogger(__name__)
CACHE_LIMIT = 800


class FontBook:
    """pygame fonts by role and size, with glyph filters so nothing is drawn as a box."""

    def __init__(self, choice: FontChoice, bold: bool) -> None:
        self.choice = choice
        self.bold = bold
        self.caption_path = choice.path
        self.translation_path = companion_font(choice, bold) if choice.japanese else choice.path
        self._fonts: dict[tuple[str | None, int], pygame.font.Font] = {}
        self._filters: dict[str | None, GlyphFilter] = {}
        self._language_paths: dict[str, str | None] = {}

    def font(self, path: str | None, size: int) -> pygame.font.Font:
        key = (path, max(1, int(size)))
        font = self._fonts.get(key)
        if font is None:
            font = self._fonts[key] = pygame.font.Font(path, key[1])
        return font

    def glyphs(self, path: str | None) -> GlyphFilter:
        glyphs = self._filters.get(path)
        if glyphs is None:
            glyphs = self._filters[path] = GlyphFilter(path)
        return glyphs

    def language_path(self, language: str, sample: str) -> str | None:
        """The font for one translation language, chosen once from its first text."""
        if language in self._language_paths:
            return self._language_paths[language]
        if not sample.strip():
            return self.translation_path
        candidates = [self.translation_path, self.caption_path, *fallback_fonts()]
        best, fewest = self.translation_path, None
        for path in dict.fromkeys(candidates):
            try:
                missing = len(missing_glyphs(path, sample))
            except (OSError, pygame.error):
                continue
            if fewest is None or missing < fewest:
                best, fewest = path, missing
            if missing == 0:
                break
        self._language_paths[language] = best
        if best != self.translation_path:
            log.info("translations in %r use the font %s", language, best)
        return best

    def measure(self, path: str | None, size: int):
        """Width of a character in pixels (0 for one the font cannot draw)."""
        font = self.font(path, size)
        glyphs = self.glyphs(path)

        def width(text: str) -> float:
            return float(sum(font.size(c)[0] for c in text if glyphs.has(c)))

        return width


@dataclass(frozen=True)
class Drawn:
    """Where something was drawn (tests check that nothing falls outside the canvas)."""

    kind: str  # "caption", "ruby", "translation", "label", "status", "frame", "picture"
    rect: tuple[int, int, int, int]
    text: str
    colour: RGB


def _ink_top(font) -> int:
    """Where a kanji's ink starts below the top of a rendered line (ascent - tallest ink)."""
    metrics = font.metrics("漢")
    maxy = metrics[0][3] if metrics and metrics[0] else font.get_ascent()
    return font.get_ascent() - maxy


class Painter:
    """Draws one frame: status band, caption rows (bottom-anchored), translation blocks."""

    def __init__(self, fonts: FontBook, theme: Theme, geometry: Geometry) -> None:
        self.fonts = fonts
        self.theme = theme
        self.g = geometry
        self._cache: dict[tuple, pygame.Surface] = {}

    def text(self, path: str | None, size: int, text: str, colour: RGB) -> pygame.Surface | None:
        text = self.fonts.glyphs(path).clean(text)
        if not text.strip():
            return None
        key = (path, size, text, colour)
        surface = self._cache.get(key)
        if surface is None:
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            surface = self._cache[key] = self.fonts.font(path, size).render(text, True, colour)
        return surface

    def draw(
        self,
        canvas: pygame.Surface,
        captions: Sequence[Row],
        translations: Sequence[tuple[str, str | None, Sequence[Row]]],
        status: tuple[str, bool] | None,
    ) -> list[Drawn]:
        g = self.g
        drawn: list[Drawn] = []
        canvas.fill(self.theme.background)
        if status:
            self._status(canvas, status[0], status[1], drawn)
        path = self.fonts.caption_path
        font_height = self.fonts.font(path, g.size).get_height()
        top = g.captions_bottom - len(captions) * g.row_height
        for i, row in enumerate(captions):
            y = top + i * g.row_height
            base_y = y + g.ruby_height + (g.row_height - g.ruby_height - font_height) // 2
            self._row(canvas, row, g.pad_x, base_y, path, g.size, False, drawn)
            if row.frames:
                self._frames(canvas, row, g.pad_x, base_y, font_height, drawn)
            if row.ruby:
                self._ruby(canvas, row, g.pad_x, y, base_y, drawn)
        for (language, tr_path, rows), block_top in zip(translations, g.translation_tops):
            if not rows:
                continue
            tr_height = self.fonts.font(tr_path, g.translation_size).get_height()
            top = block_top + (g.translation_rows - len(rows)) * g.translation_row_height
            self._label(canvas, language, block_top + (g.translation_rows - len(rows)) * g.translation_row_height, drawn)
            for i, row in enumerate(rows):
                y = top + i * g.translation_row_height + (g.translation_row_height - tr_height) // 2
                self._row(canvas, row, g.translation_x, y, tr_path, g.translation_size, True, drawn)
        return drawn

    def _row(self, canvas, row: Row, x0: int, y: int, path, size: int, translation: bool, drawn: list[Drawn]) -> None:
        for span in row.spans:
            colour = self.theme.colour(span.style, translation)
            surface = self.text(path, size, span.text, colour)
            if surface is None:
                continue
            rect = canvas.blit(surface, (x0 + round(span.x), y))
            shown = self.fonts.glyphs(path).clean(span.text)
            drawn.append(Drawn("translation" if translation else "caption", tuple(rect), shown, colour))

    def _frames(self, canvas, row: Row, x0: int, y: int, font_height: int, drawn: list[Drawn]) -> None:
        """A frame around each fact of the row (amounts, dates, registered words): not only colour."""
        g = self.g
        kanji_top = _ink_top(self.fonts.font(self.fonts.caption_path, g.size))
        thick = max(2, round(g.size / 16))
        pad = max(2, round(g.size * 0.06))
        top = y + kanji_top - pad
        bottom = y + min(font_height, kanji_top + round(g.size * 1.02)) + pad
        for x, width, style in row.frames:  # in the colour of the text it frames (older text: dimmer)
            colour = self.theme.colour(style)
            rect = pygame.Rect(x0 + round(x) - pad, top, round(width) + 2 * pad, bottom - top)
            pygame.draw.rect(canvas, colour, rect, width=thick, border_radius=thick * 2)
            drawn.append(Drawn("frame", tuple(rect), "", colour))

    def _ruby(self, canvas, row: Row, x0: int, row_top: int, base_y: int, drawn: list[Drawn]) -> None:
        g = self.g
        path = self.fonts.caption_path
        right = x0 + g.line_width + g.size
        base_font = self.fonts.font(path, g.size)
        ruby_font = self.fonts.font(path, g.ruby_size)
        kanji_top = _ink_top(base_font)
        ruby_bottom = ruby_font.get_ascent() + round(g.ruby_size * 0.07)  # kana ink ends just below the baseline
        gap = max(1, round(g.size * 0.06))
        overhang = g.size * 0.25  # a reading may reach a quarter character past a base with no reading beside it
        rubies = sorted(row.ruby, key=lambda r: r.x)
        for i, ruby in enumerate(rubies):
            colour = self.theme.colour(ruby.style)
            surface = self.text(path, g.ruby_size, ruby.reading, colour)
            if surface is None:
                continue
            touching_left = i > 0 and abs(rubies[i - 1].x + rubies[i - 1].width - ruby.x) < 1
            touching_right = i + 1 < len(rubies) and abs(ruby.x + ruby.width - rubies[i + 1].x) < 1
            low = ruby.x - (0 if touching_left else overhang)
            high = ruby.x + ruby.width + (0 if touching_right else overhang)
            if surface.get_width() > high - low:  # too long for its place: set it narrower
                surface = pygame.transform.smoothscale(surface, (max(1, int(high - low)), surface.get_height()))
            x = ruby.x + (ruby.width - surface.get_width()) / 2
            x = min(max(x, low), high - surface.get_width())
            x = max(g.pad_x // 2, min(x0 + round(x), right - surface.get_width()))
            y = max(row_top, base_y + kanji_top - gap - ruby_bottom)
            rect = canvas.blit(surface, (x, y))
            drawn.append(Drawn("ruby", tuple(rect), ruby.reading, colour))

    def _label(self, canvas, language: str, top: int, drawn: list[Drawn]) -> None:
        g = self.g
        size = max(4, round(g.translation_size * 0.55))
        surface = self.text(None if not self.fonts.choice.japanese else self.fonts.translation_path, size, language.upper(), self.theme.label)
        if surface is None:
            return
        pad = max(1, size // 4)
        w, h = surface.get_width() + 2 * pad, surface.get_height() + pad // 2
        x = g.pad_x
        y = top + (g.translation_row_height - h) // 2
        border = pygame.Rect(x, y, w, h)
        pygame.draw.rect(canvas, self.theme.label, border, width=max(1, size // 12), border_radius=max(1, size // 5))
        rect = canvas.blit(surface, (x + pad, y + pad // 4))
        drawn.append(Drawn("label", tuple(border.union(rect)), language, self.theme.label))

    def _status(self, canvas, text: str, warning: bool, drawn: list[Drawn]) -> None:
        g = self.g
        path = self.fonts.caption_path
        colour = self.theme.warning if warning else self.theme.status
        font = self.fonts.font(path, g.status_size)
        limit = g.width - 2 * g.pad_x
        text = self.fonts.glyphs(path).clean(text)
        if font.size(text)[0] > limit:
            while text and font.size(text + "…")[0] > limit:
                text = text[:-1]
            text += "…"
        surface = self.text(path, g.status_size, text, colour)
        if surface is None:
            return
        y = g.status_top + (g.status_height - surface.get_height()) // 2
        rect = canvas.blit(surface, (g.pad_x, max(0, y)))
        drawn.append(Drawn("status", tuple(rect), text, colour))
