"""Evaluation metrics as defined in the evaluation set's README (CER, term recall, ...)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from captioner.core.numerals import numbers, to_digits

IGNORED = set("、。，．,.!?！？「」『』（）()・:：;；-ー〜~…\"'“”")


def normalize(text: str) -> str:
    """NFKC, then drop whitespace and the punctuation the metric ignores."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not c.isspace() and c not in IGNORED)


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance; with ``limit``, ``limit + 1`` as soon as it must exceed ``limit``."""
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Total character edits over total reference characters, after normalization."""
    edits = sum(edit_distance(normalize(r), normalize(h)) for r, h in zip(references, hypotheses))
    total = sum(len(normalize(r)) for r in references)
    return edits / total if total else 0.0


def cer_numbers(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """CER after writing numbers as digits on both sides (三百円 = 300円), see ``captioner.core.numerals``."""
    return cer([to_digits(r) for r in references], [to_digits(h) for h in hypotheses])


def number_counts(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[int, int]:
    """(right, total): numbers of each reference shown with the same value in its hypothesis.

    Each reference number (a digit string after numeral normalization: 五時 → 5, 〇八三五 → 0835)
    is right when the hypothesis has it too; a hypothesis number matches one reference number.
    """
    right = total = 0
    for ref, hyp in zip(references, hypotheses):
        shown = Counter(numbers(hyp))
        for number in numbers(ref):
            total += 1
            if shown[number] > 0:
                shown[number] -= 1
                right += 1
    return right, total


def term_counts(
    references: Sequence[str], hypotheses: Sequence[str], surfaces: Iterable[str]
) -> tuple[int, int, int]:
    """(hits, occurrences, false alarms) of dictionary surfaces, per the eval definitions."""
    hits = occurrences = false_alarms = 0
    surfaces = list(surfaces)
    for ref, hyp in zip(references, hypotheses):
        for surface in surfaces:
            in_ref, in_hyp = ref.count(surface), hyp.count(surface)
            occurrences += in_ref
            hits += min(in_ref, in_hyp)
            false_alarms += max(0, in_hyp - in_ref)
    return hits, occurrences, false_alarms


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
