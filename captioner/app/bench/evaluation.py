"""Scoring caption events against an evaluation set's references (shared by bench and soak).

Metric definitions follow ``shared/eval/README.md``: each utterance the pipeline produced is
assigned to the reference it overlaps most; finals that overlap none are stray captions.

Two latencies are measured from the end of a reference's speech: the final's (``final``), and
the moment the text on screen, partial or final, first reads as the final will
(``text_complete``): what a reader waits for. "Reads as" ignores what CER ignores
(punctuation, spaces), so a partial that lacks only the final's 。 is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from captioner.core import metrics
from captioner.core.evalset import Reference
from captioner.core.events import CaptionEvent
from captioner.engine.streaming import common_prefix


@dataclass
class Matched:
    """The captions of a replay lined up with its references."""

    hypotheses: list[str] = field(default_factory=list)  # per reference: its finals' display text
    raw: list[str] = field(default_factory=list)  # per reference: the recognizer's own text
    final_latency: list[float] = field(default_factory=list)  # seconds after the speech ended
    complete_latency: list[float] = field(default_factory=list)  # text complete on screen, after the speech ended
    first_latency: list[float] = field(default_factory=list)  # first text after the speech started
    missed: int = 0  # references without a final
    split: int = 0  # references the VAD cut into more than one utterance
    stray: list[str] = field(default_factory=list)  # finals overlapping no reference

    def scored(self, refs: Sequence[Reference]) -> tuple[list[str], list[str]]:
        """(references, hypotheses) for CER and term counts: stray captions against empty text."""
        return [r.text for r in refs] + [""] * len(self.stray), self.hypotheses + self.stray


def assign(events: list[CaptionEvent], refs: Sequence[Reference]) -> dict[int, list[int]]:
    """Map reference index → utterance ids overlapping it most (-1: overlapping none)."""
    spans: dict[int, tuple[float, float]] = {}
    for event in events:
        start, end = spans.get(event.utterance_id, (event.audio_start, event.audio_end))
        spans[event.utterance_id] = (min(start, event.audio_start), max(end, event.audio_end))
    owners: dict[int, list[int]] = {}
    for uid, (start, end) in sorted(spans.items()):
        overlaps = [min(end, r.end) - max(start, r.start) for r in refs]
        best = max(range(len(refs)), key=lambda i: overlaps[i])
        owners.setdefault(best if overlaps[best] > 0 else -1, []).append(uid)
    return owners


def text_complete_at(shown: Sequence[CaptionEvent], final: CaptionEvent) -> float:
    """When the text shown for ``final``'s utterance first read as the final's (``shown``: its
    partials and final, no updates); the final's own emission when no partial did."""
    wanted = metrics.normalize(final.display_text)
    return min((e.emitted_at for e in shown if metrics.normalize(e.display_text) == wanted), default=final.emitted_at)


def match(events: list[CaptionEvent], refs: Sequence[Reference], pace: float = 1.0) -> Matched:
    """Line the events up with ``refs``; latencies in wall seconds (audio times divided by ``pace``)."""
    owners = assign(events, refs)
    finals = {e.utterance_id: e for e in events if e.is_final and not e.is_update}
    by_utterance: dict[int, list[CaptionEvent]] = {}
    for event in events:
        if not event.is_update:
            by_utterance.setdefault(event.utterance_id, []).append(event)
    matched = Matched()
    for i, ref in enumerate(refs):
        uids = [u for u in owners.get(i, []) if u in finals]
        matched.split += len(uids) > 1
        matched.hypotheses.append("".join(finals[u].display_text for u in uids))
        matched.raw.append("".join(finals[u].text for u in uids))
        spoken = [finals[u] for u in uids if finals[u].text]
        if spoken:
            matched.final_latency.append(max(f.emitted_at for f in spoken) - ref.end / pace)
            matched.complete_latency.append(max(text_complete_at(by_utterance[f.utterance_id], f) for f in spoken) - ref.end / pace)
        else:
            matched.missed += 1
        shown = [e.emitted_at for e in events if e.utterance_id in owners.get(i, []) and e.text]
        if shown:
            matched.first_latency.append(min(shown) - ref.start / pace)
    matched.stray = [finals[u].display_text for u in owners.get(-1, []) if u in finals and finals[u].text]
    return matched


def stability(events: list[CaptionEvent]) -> tuple[int, float]:
    """(retractions, erasure): committed text changed later, and partial characters erased."""
    retractions = erased = final_chars = 0
    by_utterance: dict[int, list[CaptionEvent]] = {}
    for event in events:
        if not event.is_update:
            by_utterance.setdefault(event.utterance_id, []).append(event)
    for sequence in by_utterance.values():
        for before, after in zip(sequence, sequence[1:]):
            if not after.text.startswith(before.committed):
                retractions += 1
            erased += len(before.text) - len(common_prefix(before.text, after.text))
        if sequence[-1].is_final:
            final_chars += len(sequence[-1].text)
    return retractions, (erased / final_chars if final_chars else 0.0)


def evaluate_session(events: list[CaptionEvent], refs: Sequence[Reference], surfaces: list[str] | None) -> dict[str, Any]:
    """Every figure of one replay; ``transcript`` lists each reference with its hypothesis."""
    matched = match(events, refs)
    refs_text, hypotheses = matched.scored(refs)
    raw = matched.raw + matched.stray
    corrected = any(e.corrected_text is not None for e in events)
    retractions, erasure = stability(events)
    result: dict[str, Any] = {
        "utterances": len(refs),
        "missed_utterances": matched.missed,
        "split_utterances": matched.split,
        "stray_captions": len(matched.stray),
        "final_latency_s": summary(matched.final_latency),
        "text_complete_latency_s": summary(matched.complete_latency),
        "first_partial_latency_s": summary(matched.first_latency),
        "cer": round(metrics.cer(refs_text, hypotheses), 4),
        "cer_uncorrected": round(metrics.cer(refs_text, raw), 4) if corrected else None,
        **number_figures(refs_text, hypotheses),
        "retractions": retractions,
        "erasure": round(erasure, 3),
        # captions (partial or final) showing U+FFFD, a broken character
        "broken_text_captions": sum(1 for e in events if "\ufffd" in e.display_text),
    }
    if surfaces is not None:
        hits, occurrences, false_alarms = metrics.term_counts(refs_text, hypotheses, surfaces)
        result["term_recall"] = round(hits / occurrences, 3) if occurrences else None
        result["term_hits"] = f"{hits}/{occurrences}"
        result["false_alarms"] = false_alarms
        if corrected:
            hits, occurrences, false_alarms = metrics.term_counts(refs_text, raw, surfaces)
            result["term_hits_uncorrected"] = f"{hits}/{occurrences}"
            result["false_alarms_uncorrected"] = false_alarms
    distractors = [(r.text, h) for r, h in zip(refs, matched.hypotheses) if r.kind == "distractor"]
    if surfaces is not None and distractors:
        result["distractor_false_alarms"] = metrics.term_counts(*zip(*distractors), surfaces)[2]
    conditions = sorted({r.condition for r in refs if r.condition is not None})
    if conditions:
        result["by_condition"] = {
            c: condition_figures([(r.text, h) for r, h in zip(refs, matched.hypotheses) if r.condition == c], surfaces)
            for c in conditions
        }
    result["transcript"] = [
        {"id": r.id, "ref": r.text, "hyp": h, **({"uncorrected": u} if u != h else {})}
        for r, h, u in zip(refs, matched.hypotheses, matched.raw)
    ]
    return result


def number_figures(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, Any]:
    """CER after numeral normalization and number accuracy (:mod:`captioner.core.numerals`)."""
    right, total = metrics.number_counts(references, hypotheses)
    return {
        "cer_numbers": round(metrics.cer_numbers(references, hypotheses), 4),
        "number_accuracy": round(right / total, 3) if total else None,
        "numbers_right": f"{right}/{total}",
    }


def condition_figures(pairs: list[tuple[str, str]], surfaces: list[str] | None) -> dict[str, Any]:
    """CER, number and name figures of one condition's (reference, hypothesis) pairs."""
    refs_text, hypotheses = [r for r, _ in pairs], [h for _, h in pairs]
    figures: dict[str, Any] = {"utterances": len(pairs), "cer": round(metrics.cer(refs_text, hypotheses), 4)}
    figures.update(number_figures(refs_text, hypotheses))
    if surfaces is not None:
        hits, occurrences, false_alarms = metrics.term_counts(refs_text, hypotheses, surfaces)
        figures["term_hits"] = f"{hits}/{occurrences}"
        figures["false_alarms"] = false_alarms
    return figures


def summary(values: Sequence[float], digits: int = 3) -> dict[str, float | None]:
    """p50 / p95 / max, rounded; None for no values."""

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, digits)

    return {"p50": r(metrics.percentile(values, 50)), "p95": r(metrics.percentile(values, 95)), "max": r(max(values) if values else None)}
