"""Pictures and a dictionary folder for the takeaway tests (real PNG/SVG files made with pygame)."""

from __future__ import annotations

import io
import os
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

SVG_CARD = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120" viewBox="0 0 200 120">'
    b'<rect x="4" y="4" width="192" height="112" rx="12" fill="#ffe082" stroke="#333" stroke-width="4"/>'
    b'<rect x="20" y="24" width="60" height="72" fill="#90caf9"/><rect x="96" y="30" width="84" height="10" fill="#333"/>'
    b'<rect x="96" y="52" width="70" height="10" fill="#333"/><rect x="96" y="74" width="84" height="10" fill="#333"/></svg>'
)


class Clock:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def png_bytes(size=(160, 100), colour=(30, 120, 220)) -> bytes:
    surface = pygame.Surface(size)
    surface.fill(colour)
    pygame.draw.rect(surface, (255, 255, 255), (10, 10, size[0] - 20, size[1] - 20), 6)
    out = io.BytesIO()
    pygame.image.save(surface, out, "picture.png")
    return out.getvalue()


def dictionary_folder(root: Path) -> Path:
    """Words with pictures: マイナンバーカード (PNG), 市民課 (SVG), 2階 (a text card)."""
    folder = root / "words"
    (folder / "pictures").mkdir(parents=True)
    (folder / "pictures" / "mynumber.png").write_bytes(png_bytes())
    (folder / "pictures" / "shiminka.svg").write_bytes(SVG_CARD)
    (folder / "words.yaml").write_text(
        "- {surface: マイナンバーカード, reading: まいなんばーかーど, picture: mynumber.png}\n"
        "- {surface: 市民課, reading: しみんか, picture: shiminka.svg}\n"
        "- {surface: 福祉課, reading: ふくしか, picture: 2階 5番窓口}\n"
        "- {surface: 防府市, reading: ほうふし}\n",
        encoding="utf-8",
    )
    return folder
