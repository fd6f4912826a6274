"""Colour themes. Every text colour has a contrast of at least 7:1 with its background (WCAG AAA).

``transparent`` (the default) is for transparent OLED/LCD panels: black pixels are
see-through, so the background is pure black and the text bright. ``light`` is dark text on
white for ordinary monitors; ``yellow`` is yellow on black, a common high-contrast choice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

RGB = tuple[int, int, int]
MIN_CONTRAST = 7.0


@dataclass(frozen=True)
class Theme:
    name: str
    background: RGB
    current: RGB  # committed text of the newest caption
    older: RGB  # earlier captions (dimmed)
    partial: RGB  # text that may still change
    translation: RGB
    translation_older: RGB
    label: RGB  # language label (text and outline)
    status: RGB
    warning: RGB  # status when something is wrong (microphone, falling behind)
    resident: RGB = (150, 240, 170)  # the resident's replies from the tablet
    corrected: RGB = (255, 190, 235)  # captions the clerk corrected

    def text_colours(self) -> dict[str, RGB]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("name", "background")}

    def colour(self, style: str, translation: bool = False) -> RGB:
        if translation:
            return {"current": self.translation, "older": self.translation_older}.get(style, self.partial)
        marked = {"resident": self.resident, "corrected": self.corrected}
        if style in marked:
            return marked[style]
        return {"current": self.current, "older": self.older}.get(style, self.partial)


THEMES: dict[str, Theme] = {
    "transparent": Theme(
        "transparent",
        background=(0, 0, 0),
        current=(255, 255, 255),
        older=(178, 178, 178),
        partial=(135, 185, 230),
        translation=(255, 214, 102),
        translation_older=(196, 166, 92),
        label=(190, 190, 190),
        status=(200, 200, 200),
        warning=(255, 150, 110),
    ),
    "light": Theme(
        "light",
        background=(255, 255, 255),
        current=(0, 0, 0),
        older=(72, 72, 72),
        partial=(20, 80, 150),
        translation=(120, 50, 0),
        translation_older=(110, 70, 40),
        label=(70, 70, 70),
        status=(60, 60, 60),
        warning=(160, 30, 0),
        resident=(0, 90, 30),
        corrected=(120, 0, 120),
    ),
    "yellow": Theme(
        "yellow",
        background=(0, 0, 0),
        current=(255, 240, 0),
        older=(200, 190, 60),
        partial=(170, 210, 255),
        translation=(120, 235, 255),
        translation_older=(110, 190, 205),
        label=(200, 200, 200),
        status=(210, 210, 210),
        warning=(255, 150, 110),
        resident=(150, 255, 170),
        corrected=(255, 180, 230),
    ),
}


def relative_luminance(colour: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio (1 .. 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
