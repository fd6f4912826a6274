"""The caption window's line-breaking rules as data, so the browser breaks lines identically.

``display.linebreak`` is the single source: its character sets are copied as they are, and
its character classes (width in cells, CJK, word characters, spaces, digits) are turned into
code-point ranges by asking its own functions about every character up to U+3FFFF. The page's
``linebreak.js`` runs the same greedy algorithm on these tables.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Callable

from display import linebreak as lb

SCAN_LIMIT = 0x40000  # planes 0-3: every script a caption can contain


def ranges(predicate: Callable[[str], bool], limit: int = SCAN_LIMIT) -> list[list[int]]:
    """[[first, last], ...] of the code points for which ``predicate`` holds."""
    out: list[list[int]] = []
    for code in range(limit):
        if 0xD800 <= code <= 0xDFFF:
            continue
        if predicate(chr(code)):
            if out and out[-1][1] == code - 1:
                out[-1][1] = code
            else:
                out.append([code, code])
    return out


@functools.lru_cache(maxsize=1)
def rules() -> dict:
    """Everything ``linebreak.js`` needs (about 10 kB of JSON, computed once per process)."""
    return {
        "no_start": lb.NO_START,
        "no_end": lb.NO_END,
        "hanging": lb.HANGING,
        "inseparable": lb.INSEPARABLE,
        "number_joiners": lb.NUMBER_JOINERS,
        "full_width": lb.FULL_WIDTH,
        # cell widths: 1 for these, 0 for these, 0.5 for everything else
        "wide": ranges(lambda c: lb.cell_width(c) == 1.0),
        "zero": ranges(lambda c: lb.cell_width(c) == 0.0),
        "cjk": ranges(lb.is_cjk),
        "word": ranges(lb.is_word),
        "space": ranges(str.isspace),
        "digit": ranges(str.isdigit),
        "unicode": unicodedata.unidata_version,
    }


@functools.lru_cache(maxsize=1)
def rules_json() -> bytes:
    return json.dumps(rules(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
