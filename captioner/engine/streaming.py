"""The streaming policy: when to decode, and which text is committed (never changed again).

A LocalAgreement-2 policy on characters: text on which two consecutive partial decodings
agree is committed, cut back to the last phrase boundary (、。 etc.) so a half-heard word is
not frozen. Committed text is passed to the decoder as a forced prefix, so every later
partial and the final start with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

BOUNDARIES = set("、。，．,.！？!? 　")  # committed text ends at one of these (spaces stripped)


@dataclass
class StreamingOptions:
    """Partial/final scheduling (``streaming:`` in the config)."""

    partials: bool = True
    first_partial_ms: int = 400
    partial_interval_ms: int = 600
    final_tail_ms: int = 150
    commit_without_boundary_chars: int = 16
    context_max_gap_s: float = 20.0

    def validate(self) -> None:
        for name in ("first_partial_ms", "partial_interval_ms", "final_tail_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.commit_without_boundary_chars < 4:
            raise ValueError("commit_without_boundary_chars must be at least 4")


def common_prefix(a: str, b: str) -> str:
    return os.path.commonprefix([a, b])


RESTATE_MIN = 6  # characters of the committed text's beginning that make a copy of it


def drop_restatement(committed: str, text: str, minimum: int = RESTATE_MIN) -> str:
    """``text`` without copies of the committed text's beginning in what follows the committed part.

    Forced to continue a committed prefix (and primed with words), Whisper sometimes starts
    the sentence over after it: 「電話は、」+「電話は…」, the copy often cut short. A run of
    ``minimum`` or more characters equal to the committed text's start is such a copy.
    """
    head = committed.lstrip()
    if len(head) < minimum or not text.startswith(committed):
        return text
    rest = text[len(committed) :]
    kept, i = [], 0
    while i < len(rest):
        copied = len(os.path.commonprefix([rest[i:], head]))
        if copied >= minimum:
            i += copied
            continue
        kept.append(rest[i])
        i += 1
    return committed + "".join(kept)


class CommitPolicy:
    """Tracks the committed prefix of one utterance across successive hypotheses."""

    def __init__(self, commit_without_boundary_chars: int = 16) -> None:
        self.long_run = commit_without_boundary_chars
        self.committed = ""
        self.previous: str | None = None

    def update(self, hypothesis: str) -> str:
        """Take a new partial hypothesis; return the (possibly longer) committed text."""
        if not hypothesis.startswith(self.committed):
            hypothesis = self.committed + hypothesis
        hypothesis = drop_restatement(self.committed, hypothesis)
        if self.previous is not None:
            agreed = common_prefix(self.previous, hypothesis)
            self.committed = max(self.committed, self._commit_point(agreed), key=len)
        self.previous = hypothesis
        return self.committed

    def final(self, text: str) -> str:
        """The final text: never shorter than, and always starting with, the committed text
        (and never restating it, see :func:`drop_restatement`)."""
        return drop_restatement(self.committed, text) if text.startswith(self.committed) else self.committed

    def _commit_point(self, agreed: str) -> str:
        fresh = agreed[len(self.committed):]
        cut = max((i + 1 for i, c in enumerate(fresh) if c in BOUNDARIES), default=0)
        if cut == 0 and len(fresh) >= self.long_run:
            cut = len(fresh) - 4
        return (self.committed + fresh[:cut]).rstrip()
