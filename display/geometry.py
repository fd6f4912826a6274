"""Text sizes and positions fitted to the window (pure arithmetic, in pixels).

The caption size is the largest that lets a line hold ``chars_per_line`` full-width
characters (plus one for hanging punctuation) and still fits ``lines`` rows, the status
band and the translation blocks in the height. The blocks sit at the bottom of the screen
(on a transparent panel the clerk's face stays visible above them).
"""

from __future__ import annotations

from dataclasses import dataclass

ROW = 1.4  # caption row height / caption size
RUBY = 0.5  # furigana size / caption size (the row grows by this when furigana is on)
TRANSLATION = 0.6  # translation size / caption size
TRANSLATION_ROW = 1.3
STATUS = 0.34  # status text size / caption size
STATUS_ROW = 1.5
BLOCK_GAP = 0.35  # space between the captions and a translation block (caption sizes)
LABEL_COLUMN = 2.0  # width of the language label column (translation sizes)
MIN_SIZE = 4


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    pad_x: int
    pad_y: int
    size: int  # caption font size
    ruby_size: int
    row_height: int
    ruby_height: int  # space for furigana at the top of each row
    line_width: int  # nominal caption line width (hanging punctuation may use one more character)
    status_size: int
    status_top: int
    status_height: int
    captions_top: int
    captions_bottom: int
    translation_size: int
    translation_row_height: int
    translation_x: int  # where translation text starts (after the label column)
    translation_width: int
    translation_tops: tuple[int, ...]  # one block per language
    translation_rows: int


def fit(
    width: int,
    height: int,
    *,
    lines: int,
    chars_per_line: int,
    furigana: bool = False,
    languages: int = 0,
    translation_rows: int = 2,
) -> Geometry:
    width, height = max(1, int(width)), max(1, int(height))
    pad_x = max(2, round(width * 0.025))
    pad_y = max(2, round(height * 0.03))
    inner_w = max(1, width - 2 * pad_x)
    inner_h = max(1, height - 2 * pad_y)
    ruby = RUBY if furigana else 0.0
    translation_rows = translation_rows if languages else 0
    units = (
        STATUS * STATUS_ROW
        + lines * (ROW + ruby)
        + languages * (BLOCK_GAP + translation_rows * TRANSLATION * TRANSLATION_ROW)
    )
    size = max(MIN_SIZE, int(min(inner_w / (chars_per_line + 1), inner_h / units)))
    row_height = max(1, round(size * (ROW + ruby)))
    ruby_height = round(size * ruby)
    status_size = max(MIN_SIZE, round(size * STATUS))
    status_height = round(status_size * STATUS_ROW)
    tr_size = max(MIN_SIZE, round(size * TRANSLATION))
    tr_row = max(1, round(tr_size * TRANSLATION_ROW))
    gap = round(size * BLOCK_GAP)
    bottom = height - pad_y
    tops = []
    for _ in range(languages):
        bottom -= translation_rows * tr_row
        tops.append(bottom)
        bottom -= gap
    tops.reverse()
    captions_bottom = bottom
    captions_top = captions_bottom - lines * row_height
    label_w = round(tr_size * LABEL_COLUMN)
    return Geometry(
        width=width,
        height=height,
        pad_x=pad_x,
        pad_y=pad_y,
        size=size,
        ruby_size=max(MIN_SIZE, round(size * RUBY * 0.9)),
        row_height=row_height,
        ruby_height=ruby_height,
        line_width=max(size, inner_w - size),
        status_size=status_size,
        status_top=captions_top - status_height,
        status_height=status_height,
        captions_top=captions_top,
        captions_bottom=captions_bottom,
        translation_size=tr_size,
        translation_row_height=tr_row,
        translation_x=pad_x + label_w,
        translation_width=max(tr_size, inner_w - label_w - tr_size),  # + one character of hang
        translation_tops=tuple(tops),
        translation_rows=translation_rows,
    )
