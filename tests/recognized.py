"""Helpers for tests that use what the real recognizer wrote without assuming its words."""

from __future__ import annotations

import re


def misheard_piece(text: str) -> str:
    """A piece of what the recognizer wrote (up to the first particle or punctuation), to register
    as a wrong form: the clerk's 「辞書に登録」 does the same. Which words Whisper writes depends on
    the processor (int8 kernels), so the test takes them from the recognizer instead of assuming."""
    piece = re.split(r"[のはがを、。,. ]", text)[0]
    return piece if len(piece) >= 2 else text[:4]
