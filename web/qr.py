"""QR codes of the viewer URL: text for the terminal, SVG for the page, PNG for the caption window."""

from __future__ import annotations

import io


def _code(url: str):
    try:
        import segno
    except ImportError as e:  # pragma: no cover - a declared dependency
        from captioner.core.errors import CaptionerError

        raise CaptionerError("QR codes need segno: pip install segno") from e
    return segno.make(url, error="m", micro=False)


def text(url: str) -> str:
    """The QR code drawn with block characters (two modules per character cell, for a terminal)."""
    matrix = [list(row) for row in _code(url).matrix]
    border = 2
    size = len(matrix) + 2 * border
    dark = [[False] * size for _ in range(size)]
    for y, row in enumerate(matrix):
        for x, value in enumerate(row):
            dark[y + border][x + border] = bool(value)
    if size % 2:
        dark.append([False] * size)
    # light modules as full blocks so the code reads on a dark terminal (white quiet zone)
    glyphs = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    return "\n".join(
        "".join(glyphs[(dark[y][x], dark[y + 1][x])] for x in range(size)) for y in range(0, len(dark), 2)
    )


def svg(url: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="svg", scale=scale, border=2, xmldecl=False, dark="#000", light="#fff")
    return out.getvalue()

