"""The streaming policy: when to decode, and which text is committed (never changed again).

A LocalAgreement-n policy on characters: text on which ``commit_agreement`` consecutive
partial decodings agree is committed, cut back to the last phrase boundary (、。 etc.) so a
half-heard word is not frozen. Committed text is passed to the decoder as a forced prefix, so
every later partial starts with it. The final is decoded either with that prefix too or
freely (``final_prefix: free``): then the free text's continuation after the part that lines
up with the committed text is appended to it (:func:`continuation`), so committed text never
changes but an error the forced prefix would lock into the rest of the sentence is avoided.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FINAL_PREFIXES = ("forced", "free")
BOUNDARIES = set("、。，．,.！？!? 　")  # committed text ends at one of these (spaces stripped)


@dataclass
class StreamingOptions:
    """Partial/final scheduling (``streaming:`` in the config)."""

    partials: bool = True
    first_partial_ms: int = 400
    partial_interval_ms: int = 600
    final_tail_ms: int = 300
    commit_without_boundary_chars: int = 16
    commit_agreement: int = 2  # consecutive partials that must agree to commit text; 0 = commit nothing before the final
    final_prefix: str = "free"  # "forced": the final continues the committed text; "free": see the module doc
    sentence_end_ms: int = 500  # silence that closes an utterance whose speculative final ends a sentence; 0 = only the VAD's hangover
    mid_sentence_ms: int = 1200  # silence that closes an utterance whose speculative final stops mid-sentence (…は、…ので、); 0 = the VAD's hangover
    context_max_gap_s: float = 20.0

    def validate(self) -> None:
        for name in ("first_partial_ms", "partial_interval_ms", "final_tail_ms", "sentence_end_ms", "mid_sentence_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.commit_without_boundary_chars < 4:
            raise ValueError("commit_without_boundary_chars must be at least 4")
        if self.commit_agreement < 0 or self.commit_agreement == 1:
            raise ValueError("commit_agreement must be 0 (never) or at least 2")
        if self.final_prefix not in FINAL_PREFIXES:
            raise ValueError(f"final_prefix must be one of: {', '.join(FINAL_PREFIXES)}")


# How a Japanese sentence ends (polite forms, questions); a pause after anything else (は、で、
# ので、…) is a pause inside the sentence. Not punctuation: Whisper ends any piece of speech
# that stops with 。, so it says nothing about the speaker (on the tune split it closed 7 of
# 34 clean sentences early at a comma pause).
SENTENCE_ENDS = ("ます", "です", "ました", "でした", "ません", "ください", "下さい", "でしょう")
FINAL_PARTICLES = "かねよ"  # ですか, ましたか, くださいね, ですよね


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends like a finished Japanese sentence (see SENTENCE_ENDS), final
    particles and punctuation aside."""
    return text.rstrip(" 　、,。.！？!?…").rstrip(FINAL_PARTICLES).endswith(SENTENCE_ENDS)


# How a pause inside a Japanese sentence sounds in text: after a particle, a て/で form or a
# conjunction (…は、…ので、…ましたら、). Whisper's own 、 at the end counts too.
MID_SENTENCE_ENDS = tuple("はがをにでともへてばし") + ("から", "まで", "より", "けど", "けれど", "たら", "なら", "、", ",")


def stops_mid_sentence(text: str) -> bool:
    """True when ``text`` stops where a Japanese sentence goes on (see MID_SENTENCE_ENDS),
    Whisper's closing 。 aside (it ends any piece of speech that stops with one)."""
    return text.rstrip(" 　。.").endswith(MID_SENTENCE_ENDS)


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


def continuation(committed: str, text: str) -> str:
    """What ``text`` says after the part of it that lines up with ``committed``.

    The prefix ``text[:k]`` closest to ``committed`` by edit distance (punctuation and spaces
    cost nothing: 、 shown but not in the free text is no difference; ties: the length nearest
    ``committed``'s) is the part already shown; ``text[k:]`` is new.
    """
    if not committed:
        return text

    def cost(c: str) -> int:
        return 0 if c in BOUNDARIES else 1

    # row[k]: edit distance between the committed text so far and text[:k]
    row = [0]
    for t in text:
        row.append(row[-1] + cost(t))
    for c in committed:
        previous, row = row, [row[0] + cost(c)]
        for k, t in enumerate(text, 1):
            row.append(min(previous[k] + cost(c), row[k - 1] + cost(t), previous[k - 1] + (c != t)))
    best = min(range(len(text) + 1), key=lambda k: (row[k], abs(k - len(committed))))
    return text[best:]


class CommitPolicy:
    """Tracks the committed prefix of one utterance across successive hypotheses."""

    def __init__(self, commit_without_boundary_chars: int = 16, agreement: int = 2) -> None:
        self.long_run = commit_without_boundary_chars
        self.agreement = agreement
        self.committed = ""
        self.previous: str | None = None
        self.recent: list[str] = []  # the last ``agreement - 1`` hypotheses

    def update(self, hypothesis: str) -> str:
        """Take a new partial hypothesis; return the (possibly longer) committed text."""
        if not hypothesis.startswith(self.committed):
            hypothesis = self.committed + hypothesis
        hypothesis = drop_restatement(self.committed, hypothesis)
        if self.agreement and len(self.recent) >= self.agreement - 1:
            agreed = os.path.commonprefix([*self.recent, hypothesis])
            self.committed = max(self.committed, self._commit_point(agreed), key=len)
        self.previous = hypothesis
        if self.agreement:
            self.recent = [*self.recent, hypothesis][-(self.agreement - 1) :]
        return self.committed

    def final(self, text: str, forced: bool = True) -> str:
        """The final text: never shorter than, and always starting with, the committed text
        (and never restating it, see :func:`drop_restatement`). ``forced=False``: ``text`` was
        decoded without the committed prefix; its :func:`continuation` follows the committed text."""
        if text.startswith(self.committed):
            return drop_restatement(self.committed, text)
        if forced or not text:
            return self.committed
        return drop_restatement(self.committed, self.committed + continuation(self.committed, text))

    def _commit_point(self, agreed: str) -> str:
        fresh = agreed[len(self.committed):]
        cut = max((i + 1 for i, c in enumerate(fresh) if c in BOUNDARIES), default=0)
        if cut == 0 and len(fresh) >= self.long_run:
            cut = len(fresh) - 4
        return (self.committed + fresh[:cut]).rstrip()
