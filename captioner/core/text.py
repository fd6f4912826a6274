"""Text from outside made safe once, and the check every writer makes before it writes.

A client can send any code point JSON can escape, including a lone surrogate (``"\\ud800"``)
that no file, database or terminal can encode, and the invisible controls that reorder or hide
what a reader sees (bidi overrides, zero-width spaces). :func:`safe_text` is applied where text
enters (the web server's JSON bodies); :func:`writable` lets a writer (log, YAML, CSV) report
and skip one record instead of failing on it, and on every record after it.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"  # what a lone surrogate becomes: visible, and valid Unicode
_SURROGATE = re.compile("[\ud800-\udfff]")
# bidi embeddings, overrides and isolates; marks; zero-width space, joiners, word joiner,
# invisible operators; byte-order mark
_INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def safe_text(text: str) -> str:
    """``text`` as valid Unicode without invisible reordering or zero-width controls."""
    return _INVISIBLE.sub("", _SURROGATE.sub(REPLACEMENT, text))


def safe_value(value: Any) -> Any:
    """:func:`safe_text` on every string in a parsed JSON value (keys included)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, list):
        return [safe_value(v) for v in value]
    if isinstance(value, dict):
        return {safe_value(k): safe_value(v) for k, v in value.items()}
    return value


def writable(value: Any) -> bool:
    """True when every string in ``value`` (str, list, tuple, dict) can be written as UTF-8."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is None
    if isinstance(value, (list, tuple)):
        return all(writable(v) for v in value)
    if isinstance(value, dict):
        return all(writable(k) and writable(v) for k, v in value.items())
    return True
