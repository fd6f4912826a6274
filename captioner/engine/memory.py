"""Handing memory freed by decoders back to the operating system."""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def release_free_memory() -> None:
    """Give memory freed by the decoders back to the system (glibc ``malloc_trim``; elsewhere a no-op).

    Decoding allocates and frees buffers of a different size for every utterance from several
    threads; glibc keeps the freed pages in per-thread arenas, so resident memory creeps up
    over a day although nothing is in use. Trimming takes about a millisecond.
    """
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Callable[[int], int] | bool | None = None
