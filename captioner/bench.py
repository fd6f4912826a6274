"""``captioner bench SET_DIR``: replay an evaluation set at real-time pace and measure it.

The set is shaped like ``shared/eval/dev``: ``session.wav`` with ``refs.json`` (utterance
texts and their start/end times), optionally ``nonspeech.wav``, ``dictionary.yaml`` and
per-utterance WAVs listed in ``utterances.tsv``. Metric definitions follow the set's README.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from captioner import metrics
from captioner.asr import WhisperRecognizer
from captioner.audio import FileSource
from captioner.config import Config
from captioner.errors import CaptionerError
from captioner.events import CaptionEvent
from captioner.pipeline import CaptionPipeline
from captioner.sinks import FinalsCollector
from captioner.streaming import common_prefix
from dictionary.entries import Entry
from dictionary.stage import DictionaryStage
from dictionary.store import combine, parse_file


@dataclass(frozen=True)
class Reference:
    id: str
    text: str
    start: float
    end: float
    condition: str | None = None  # "family/snr" from refs.json (generated corpus), for per-condition figures
    kind: str | None = None  # "counter" or "distractor" (a sentence without any registered word)


def load_references(set_dir: Path) -> list[Reference]:
    path = set_dir / "refs.json"
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        return [Reference(i["id"], i["text"], float(i["start"]), float(i["end"]), _condition(i), i.get("kind")) for i in items]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CaptionerError(f"{path}: not a readable reference list ({e})") from e


def _condition(item: dict[str, Any]) -> str | None:
    """``kokoro/clean``, ``ojt/snr20`` … when the reference names its voice family or SNR."""
    if "family" not in item and "snr" not in item:
        return None
    snr = item.get("snr")
    label = "clean" if snr is None else f"snr{snr:g}" if isinstance(snr, (int, float)) else f"snr{snr}"
    return f"{item.get('family', '?')}/{label}"


def load_dictionary(set_dir: Path) -> list[Entry] | None:
    """The set's ``dictionary.yaml`` entries, or None when it has none."""
    path = set_dir / "dictionary.yaml"
    if not path.is_file():
        return None
    result = combine([parse_file(path)])
    if result.problems:
        raise CaptionerError("\n".join(str(p) for p in result.problems))
    return result.entries


def replay(
    config: Config, recognizer: WhisperRecognizer, wav: Path, dictionary: DictionaryStage | None = None,
    display=None,
) -> tuple[list[CaptionEvent], dict[str, Any]]:
    """Feed a file at real-time pace through the full pipeline; return events and usage.

    ``display`` (a ``display.bench.DisplayProbe``): the caption window shows the events and
    runs the pipeline in a thread, as ``captioner run`` does.
    """
    collector = FinalsCollector()
    source = FileSource(wav, pace=1.0, block_ms=config.audio.block_ms)
    translation = _translation_stage(config, dictionary)
    sinks = [collector] if translation is None else [collector, translation]  # Japanese figures: Japanese events
    if display is not None:
        sinks.append(display.window)
    pipeline = CaptionPipeline(config, recognizer, source, sinks, dictionary=dictionary)
    wall, cpu = time.monotonic(), time.process_time()
    try:
        stats = display.run(pipeline, wav.stem) if display is not None else pipeline.run()
    finally:
        if translation is not None:
            translation.close()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    decode = sum(stats.decode_seconds.values())
    usage = {
        "audio_s": round(stats.audio_seconds, 2),
        "cpu_cores_avg": round(cpu / wall, 3),
        "rtf": round(decode / stats.audio_seconds, 3) if stats.audio_seconds else None,
        "decodes": stats.decodes,
        "decode_s": {k: round(v, 2) for k, v in stats.decode_seconds.items()},
        "speculative_hits": stats.speculative_hits,
        "rejected": stats.rejected,
    }
    if stats.correction_ms:
        usage["correction_ms"] = _summary(stats.correction_ms, digits=2)
        usage["correction_cpu_ms"] = _summary(stats.correction_cpu_ms, digits=2)
    if translation is not None:
        from translate.bench import stage_summary

        usage["translation"] = stage_summary(translation)
    return collector.events, usage


def _translation_stage(config: Config, dictionary: DictionaryStage | None):
    """The translation stage (beside the Japanese collector) when translate.languages is set."""
    if not config.translate.languages:
        return None
    from translate.names import glossary_of
    from translate.stage import build_stage

    return build_stage(config.translate, [], glossary=glossary_of(dictionary))


def assign(events: list[CaptionEvent], refs: list[Reference]) -> dict[int, list[int]]:
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


def stability(events: list[CaptionEvent]) -> tuple[int, float]:
    """(retractions, erasure): committed text changed later, and partial characters erased."""
    retractions = erased = final_chars = 0
    by_utterance: dict[int, list[CaptionEvent]] = {}
    for event in events:
        by_utterance.setdefault(event.utterance_id, []).append(event)
    for sequence in by_utterance.values():
        for before, after in zip(sequence, sequence[1:]):
            if not after.text.startswith(before.committed):
                retractions += 1
            erased += len(before.text) - len(common_prefix(before.text, after.text))
        if sequence[-1].is_final:
            final_chars += len(sequence[-1].text)
    return retractions, (erased / final_chars if final_chars else 0.0)


def evaluate_session(events: list[CaptionEvent], refs: list[Reference], surfaces: list[str] | None) -> dict[str, Any]:
    owners = assign(events, refs)
    finals = {e.utterance_id: e for e in events if e.is_final}
    hypotheses, raw, final_latency, first_latency, missed = [], [], [], [], 0
    for i, ref in enumerate(refs):
        uids = owners.get(i, [])
        hypotheses.append("".join(finals[u].display_text for u in uids if u in finals))
        raw.append("".join(finals[u].text for u in uids if u in finals))
        emitted = [finals[u].emitted_at for u in uids if u in finals and finals[u].text]
        if emitted:
            final_latency.append(max(emitted) - ref.end)
        else:
            missed += 1
        shown = [e.emitted_at for e in events if e.utterance_id in uids and e.text]
        if shown:
            first_latency.append(min(shown) - ref.start)
    stray = [finals[u].display_text for u in owners.get(-1, []) if u in finals and finals[u].text]
    refs_text = [r.text for r in refs] + [""] * len(stray)
    corrected = any(e.corrected_text is not None for e in events)
    retractions, erasure = stability(events)
    result: dict[str, Any] = {
        "utterances": len(refs),
        "missed_utterances": missed,
        "stray_captions": len(stray),
        "final_latency_s": _summary(final_latency),
        "first_partial_latency_s": _summary(first_latency),
        "cer": round(metrics.cer(refs_text, hypotheses + stray), 4),
        "cer_uncorrected": round(metrics.cer(refs_text, raw + stray), 4) if corrected else None,
        **number_figures(refs_text, hypotheses + stray),
        "retractions": retractions,
        "erasure": round(erasure, 3),
        # captions (partial or final) showing U+FFFD, a broken character
        "broken_text_captions": sum(1 for e in events if "\ufffd" in e.display_text),
    }
    if surfaces is not None:
        hits, occurrences, false_alarms = metrics.term_counts(refs_text, hypotheses + stray, surfaces)
        result["term_recall"] = round(hits / occurrences, 3) if occurrences else None
        result["term_hits"] = f"{hits}/{occurrences}"
        result["false_alarms"] = false_alarms
        if corrected:
            hits, occurrences, false_alarms = metrics.term_counts(refs_text, raw + stray, surfaces)
            result["term_hits_uncorrected"] = f"{hits}/{occurrences}"
            result["false_alarms_uncorrected"] = false_alarms
    distractors = [(r.text, h) for r, h in zip(refs, hypotheses) if r.kind == "distractor"]
    if surfaces is not None and distractors:
        result["distractor_false_alarms"] = metrics.term_counts([r for r, _ in distractors], [h for _, h in distractors], surfaces)[2]
    conditions = sorted({r.condition for r in refs if r.condition is not None})
    if conditions:
        result["by_condition"] = {
            c: condition_figures([(r.text, h) for r, h in zip(refs, hypotheses) if r.condition == c], surfaces)
            for c in conditions
        }
    result["transcript"] = [
        {"id": r.id, "ref": r.text, "hyp": h, **({"uncorrected": u} if u != h else {})}
        for r, h, u in zip(refs, hypotheses, raw)
    ]
    return result


def number_figures(references: list[str], hypotheses: list[str]) -> dict[str, Any]:
    """CER after numeral normalization and number accuracy (``captioner.numerals``)."""
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


def offline_baseline(recognizer: WhisperRecognizer, set_dir: Path, beam_size: int = 5) -> dict[str, Any]:
    """CER of faster-whisper's own transcribe(), beam 5, on each utterance file (the target's reference)."""
    rows = [line.split("\t") for line in (set_dir / "utterances.tsv").read_text(encoding="utf-8").splitlines() if line.strip()]
    refs, hyps = [], []
    for uid, text in rows:
        segments, _ = recognizer.model.transcribe(
            str(set_dir / f"{uid}.wav"), language=recognizer.options.language, beam_size=beam_size
        )
        refs.append(text)
        hyps.append("".join(s.text for s in segments))
    return {"beam_size": beam_size, "cer": round(metrics.cer(refs, hyps), 4)}


def run_bench(
    config: Config,
    recognizer: WhisperRecognizer,
    set_dir: Path,
    *,
    nonspeech: bool = True,
    baseline: bool = False,
    use_dictionary: bool = True,
    display: bool = False,
) -> dict[str, Any]:
    refs = load_references(set_dir)
    entries = load_dictionary(set_dir)
    surfaces = [e.surface for e in entries] if entries is not None else None
    dictionary = DictionaryStage(config.dictionary, entries) if entries and use_dictionary else None
    result: dict[str, Any] = {**recognizer.describe(), "set": str(set_dir)}
    result["dictionary"] = {"entries": len(entries), "hotwords": len(dictionary.hotword_list())} if dictionary else None
    result["asr"] = {
        "final_beam_size": config.asr.final_beam_size,
        "partial_beam_size": config.asr.partial_beam_size,
        "hangover_ms": config.vad.hangover_ms,
    }
    probe = None
    if display:  # the caption window as one more sink (offscreen without a screen)
        from display.bench import DisplayProbe

        probe = DisplayProbe(config.display)
    events, usage = replay(config, recognizer, set_dir / "session.wav", dictionary, probe)
    session = evaluate_session(events, refs, surfaces)
    transcript = session.pop("transcript")
    result.update(session)
    result.update(usage)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if nonspeech and (set_dir / "nonspeech.wav").is_file():
        noise_events, _ = replay(config, recognizer, set_dir / "nonspeech.wav", dictionary, probe)
        result["nonspeech_captions"] = sum(1 for e in noise_events if e.text)
        result["nonspeech_texts"] = sorted({e.text for e in noise_events if e.text})
    if baseline and (set_dir / "utterances.tsv").is_file():
        result["offline_baseline"] = offline_baseline(recognizer, set_dir)
    if probe is not None:
        try:
            result["display"] = probe.measure()
        finally:
            probe.close()
    result["transcript"] = transcript
    return result


def _summary(values: list[float], digits: int = 3) -> dict[str, float | None]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, digits)

    return {"p50": r(metrics.percentile(values, 50)), "p95": r(metrics.percentile(values, 95)), "max": r(max(values) if values else None)}
