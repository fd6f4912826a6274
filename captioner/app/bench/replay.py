"""``captioner bench SET_DIR``: replay an evaluation set at real-time pace and measure it.

The replay runs the session ``captioner run`` builds (:mod:`captioner.app.session`):
dictionary correction, masking and translation when configured, with a collecting sink
(and the caption window with ``--display``). The set is described in
:mod:`captioner.core.evalset`; the figures in :mod:`captioner.app.bench.evaluation`.
"""

from __future__ import annotations

import copy
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from captioner.app.config import Config
from captioner.app.bench.evaluation import evaluate_session, summary
from captioner.app.session import CaptionSession
from captioner.app.sinks import FinalsCollector
from captioner.core import metrics
from captioner.core.evalset import load_references
from captioner.core.events import CaptionEvent
from captioner.engine.audio import FileSource
from captioner.engine.recognizer import Recognizer


def load_dictionary(set_dir: Path) -> list | None:
    """The set's ``dictionary.yaml`` entries, or None when it has none."""
    path = set_dir / "dictionary.yaml"
    if not path.is_file():
        return None
    from dictionary.store import load_word_file

    return load_word_file(path)


def replay(
    config: Config, recognizer: Recognizer, wav: Path, entries: list | None = None, display=None,
) -> tuple[list[CaptionEvent], dict[str, Any]]:  # fmt: skip
    """Feed a file at real-time pace through a session; return its events and usage.

    ``entries``: the dictionary (None or empty: none). ``display`` (a
    ``captioner.app.bench.display_probe.DisplayProbe``): the caption window shows the events and runs the
    pipeline in a thread, as ``captioner run`` does.
    """
    collector = FinalsCollector()
    sinks = [collector] if display is None else [collector, display.window]
    with CaptionSession(config, recognizer, sinks, entries=entries or []) as session:
        source = FileSource(wav, pace=1.0, block_ms=config.audio.block_ms)
        wall, cpu = time.monotonic(), time.process_time()
        stats = display.run(session, source, wav.stem) if display is not None else session.run(source)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    decode = sum(stats.decode_seconds.values())
    usage: dict[str, Any] = {
        "audio_s": round(stats.audio_seconds, 2),
        "cpu_cores_avg": round(cpu / wall, 3),
        "rtf": round(decode / stats.audio_seconds, 3) if stats.audio_seconds else None,
        "decodes": stats.decodes,
        "decode_s": {k: round(v, 2) for k, v in stats.decode_seconds.items()},
        "speculative_hits": stats.speculative_hits,
        "rejected": stats.rejected,
    }
    if session.stats.correction_ms:
        usage["correction_ms"] = summary(session.stats.correction_ms, digits=2)
        usage["correction_cpu_ms"] = summary(session.stats.correction_cpu_ms, digits=2)
    if session.translation is not None:
        from captioner.app.bench.translation_bench import stage_summary

        usage["translation"] = stage_summary(session.translation)
    return collector.events, usage


def offline_baseline(recognizer: Recognizer, set_dir: Path, beam_size: int = 5) -> dict[str, Any]:
    """CER of decoding each utterance file whole, beam 5, no streaming (what streaming is held to)."""
    rows = [line.split("\t") for line in (set_dir / "utterances.tsv").read_text(encoding="utf-8").splitlines() if line.strip()]
    refs, hyps = [], []
    for uid, text in rows:
        audio = np.concatenate(list(FileSource(set_dir / f"{uid}.wav", pace=None).blocks()))
        refs.append(text)
        hyps.append(recognizer.transcribe(audio, beam_size=beam_size).text)
    return {"beam_size": beam_size, "cer": round(metrics.cer(refs, hyps), 4)}


def run_bench(
    config: Config,
    recognizer: Recognizer,
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
    used = entries if entries and use_dictionary else None
    config = copy.deepcopy(config)
    config.web.enabled = False  # the benchmark serves no viewer (it would measure the network too)
    result: dict[str, Any] = {**recognizer.describe(), "set": str(set_dir)}
    result["dictionary"] = {"entries": len(used)} if used else None
    result["asr"] = {
        "final_beam_size": config.asr.final_beam_size,
        "partial_beam_size": config.asr.partial_beam_size,
        "hangover_ms": config.vad.hangover_ms,
    }
    result["stages"] = {
        "translation": list(config.translate.languages),
        "mask_on_screen": config.conversation_log.mask_on_screen,
    }
    probe = None
    if display:  # the caption window as one more sink (offscreen without a screen)
        from captioner.app.bench.display_probe import DisplayProbe

        probe = DisplayProbe(config.display)
    events, usage = replay(config, recognizer, set_dir / "session.wav", used, probe)
    session = evaluate_session(events, refs, surfaces)
    transcript = session.pop("transcript")
    result.update(session)
    result.update(usage)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if nonspeech and (set_dir / "nonspeech.wav").is_file():
        noise_events, _ = replay(config, recognizer, set_dir / "nonspeech.wav", used, probe)
        texts = [e.text for e in noise_events if e.text and not e.is_update]
        result["nonspeech_captions"] = len(texts)
        result["nonspeech_texts"] = sorted(set(texts))
    if baseline and (set_dir / "utterances.tsv").is_file():
        result["offline_baseline"] = offline_baseline(recognizer, set_dir)
    if probe is not None:
        try:
            result["display"] = probe.measure()
        finally:
            probe.close()
    result["transcript"] = transcript
    return result
