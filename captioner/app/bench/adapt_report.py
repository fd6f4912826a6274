"""Figures of ``captioner bench`` outputs split the way adaptation must be judged.

``python -m captioner.app.bench.adapt_report SET_DIR BENCH.json [BENCH.json ...]`` reads each
bench JSON (its ``transcript``) and the set's references and dictionary, and prints, per
bench file, the figures of groups the adapted model never trained on: counter sentences of
held-out templates (:func:`captioner.app.adapt.data.template_split`), held-out voices (Open
JTalk ``mei`` and kokoro :data:`~captioner.app.adapt.data.HELDOUT_VOICE`), sentences without
a registered word (CER must not rise) and distractors (false alarms must not rise), all of them
and those of held-out distractor templates.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from captioner.app.adapt.data import HELDOUT_VOICE, template_split
from captioner.app.bench.corpus.templates import COUNTER_TEMPLATES, DISTRACTOR_TEMPLATES, SLOT
from captioner.core import metrics
from captioner.core.evalset import load_references

TEMPLATES = [t for _, t in COUNTER_TEMPLATES] + list(DISTRACTOR_TEMPLATES)
PATTERNS = [(re.compile("^" + ".+?".join(re.escape(p) for p in SLOT.split(t)[::2]) + "$"), t) for t in TEMPLATES]


def template_of(text: str) -> str | None:
    return next((t for pattern, t in PATTERNS if pattern.match(text)), None)


def figures(pairs: list[tuple[str, str]], surfaces: list[str]) -> dict:
    if not pairs:
        return {"utterances": 0}
    refs, hyps = zip(*pairs)
    hits, occurrences, false_alarms = metrics.term_counts(refs, hyps, surfaces)
    right, total = metrics.number_counts(refs, hyps)
    return {
        "utterances": len(pairs), "names_right": f"{hits}/{occurrences}", "cer_numbers": round(metrics.cer_numbers(refs, hyps), 4),
        "numbers_right": f"{right}/{total}", "false_alarms": false_alarms,
    }  # fmt: skip


def split_figures(set_dir: Path, bench: dict) -> dict:
    from captioner.app.bench.replay import load_dictionary

    refs = {r.id: r for r in load_references(set_dir)}
    surfaces = [e.surface for e in load_dictionary(set_dir) or []]
    rows = [(refs[t["id"]], t["ref"], t["hyp"]) for t in bench["transcript"] if t["id"] in refs]
    groups: dict[str, list[tuple[str, str]]] = {}
    for ref, text, hyp in rows:
        voice = str(ref.extra.get("voice", ""))
        held_voice = voice.startswith("ojt-mei") or voice.startswith(HELDOUT_VOICE)
        template = template_of(text)
        keys = ["all", "heldout_voices" if held_voice else "trained_voices"]
        if template is not None and ref.extra.get("kind") == "counter":
            keys.append(f"{template_split(template)}_templates")
            if held_voice and template_split(template) == "heldout":
                keys.append("heldout_voices_and_templates")
        if ref.extra.get("kind") == "distractor":
            keys.append("distractors")
            if template is not None and template_split(template) == "heldout":
                keys.append("heldout_distractors")
        if not any(s in text for s in surfaces):
            keys.append("no_registered_word")
        for key in keys:
            groups.setdefault(key, []).append((text, hyp))
    out = {key: figures(pairs, surfaces) for key, pairs in sorted(groups.items())}
    out["latency"] = {"final_s": bench.get("final_latency_s"), "first_partial_s": bench.get("first_partial_latency_s")}
    return out


def decode_set(set_dir: Path, model: str, limit: int | None = None) -> dict:
    """A bench-shaped ``transcript`` from decoding each utterance file once, as the pipeline's
    final decode does (no streaming, no correction): a quick figure for choosing settings."""
    from dataclasses import replace

    from faster_whisper import decode_audio

    from captioner.app.config import Config
    from captioner.engine.whisper import WhisperRecognizer

    recognizer = WhisperRecognizer(replace(Config().asr, model=model, device="cpu", compute_type="int8"))
    transcript = []
    for ref in load_references(set_dir)[:limit]:
        hypothesis = recognizer.transcribe(decode_audio(str(set_dir / f"{ref.id}.wav")))
        transcript.append({"id": ref.id, "ref": ref.text, "hyp": hypothesis.text})
    return {"transcript": transcript}


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) >= 3 and args[0] == "--decode":  # --decode MODEL SET_DIR [LIMIT]
        limit = int(args[3]) if len(args) > 3 else None
        print(json.dumps(split_figures(Path(args[2]), decode_set(Path(args[2]), args[1], limit)), ensure_ascii=False, indent=1))
        return 0
    if len(args) < 2:
        print("usage: python -m captioner.app.bench.adapt_report SET_DIR BENCH.json [BENCH.json ...]\n"
              "       python -m captioner.app.bench.adapt_report --decode MODEL SET_DIR [LIMIT]", file=sys.stderr)  # fmt: skip
        return 2
    set_dir = Path(args[0])
    result = {}
    for file in args[1:]:
        try:
            bench = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            print(f"{file}: cannot read a bench JSON ({e})", file=sys.stderr)
            return 2
        result[file] = split_figures(set_dir, bench)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
