"""``captioner dict ablate BENCH.json...``: what each correction rule and guard is worth (JSON).

Takes the output of ``captioner bench`` runs (their transcripts hold the recognizer's own
text per reference) and corrects that text again with the set's dictionary: with every rule
on, with none (no correction), and with every rule on but one (``dictionary.rules_off``), for
every rule and guard of :mod:`dictionary.rules`.
The recognizer is not run again, so one bench run per set serves every row. Per row: names
right, false alarms (all, and in distractor sentences), CER and CER after numeral
normalization, pooled over the given runs. The text is corrected per reference as a whole
(the live stage corrects it piece by piece as it is committed; ``all`` shows how close that is
to the bench's own figures, ``bench`` in the output).

``wrong_replacements`` counts the corrections whose new word is not in the reference (a
false alarm, or the wrong one of two registered names), so it is not inflated by words inside
words. ``--fill N`` loads the set's words plus real town names up to N entries (whole
prefectures, :func:`captioner.app.bench.dictionary_bench.fill_entries`), as a city that loads its prefecture does:
false alarms must be measured with thousands of words loaded. Then only
``wrong_replacements`` sees the added towns (``false_alarms`` counts the set's own words), and
the ``bench`` row is still what the live stage did with the set's own words. Rules that need
an utterance's partials (``NEEDS_PARTIALS``: ``shown_names``) have no row: the transcripts
hold finals only; measure them on a live run's recorded events (``scripts/dictionary_replay.py
score``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from captioner.core import metrics
from captioner.core.errors import CaptionerError
from captioner.core.evalset import load_references
from captioner.app.bench.dictionary_bench import fill_entries
from dictionary.correct import Corrector
from dictionary.options import DictionaryOptions
from dictionary.rules import NEEDS_PARTIALS, RULES
from dictionary.store import load_word_file


@dataclasses.dataclass
class Run:
    """One bench run: per reference its text, kind, the recognizer's and the shown text."""

    set_dir: Path
    surfaces: list[str]
    entries: list
    refs: list[str]
    kinds: list[str]
    raw: list[str]
    shown: list[str]


def load_run(path: Path) -> Run:
    """A ``captioner bench --output`` file and the set it was run on."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        set_dir, transcript = Path(result["set"]), result["transcript"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CaptionerError(f"{path}: not the output of `captioner bench --output` ({e})") from e
    words = set_dir / "dictionary.yaml"
    if not words.is_file():
        raise CaptionerError(f"{path}: its set {set_dir} has no dictionary.yaml")
    entries = load_word_file(words)
    kinds = {r.id: r.kind for r in load_references(set_dir)}
    return Run(
        set_dir,
        [e.surface for e in entries],
        entries,
        [t["ref"] for t in transcript],
        [kinds.get(t["id"], "") for t in transcript],
        [t.get("uncorrected", t["hyp"]) for t in transcript],
        [t["hyp"] for t in transcript],
    )


def figures(runs: list[Run], hypotheses: list[list[str]], wrong: int | None = None) -> dict[str, Any]:
    """Names, false alarms and CERs of ``hypotheses`` (per run, per reference), pooled."""
    refs = [r for run in runs for r in run.refs]
    hyps = [h for per_run in hypotheses for h in per_run]
    hits = occurrences = false_alarms = distractor_false_alarms = 0
    for run, per_run in zip(runs, hypotheses):
        h, o, f = metrics.term_counts(run.refs, per_run, run.surfaces)
        hits, occurrences, false_alarms = hits + h, occurrences + o, false_alarms + f
        pairs = [(r, x) for r, x, k in zip(run.refs, per_run, run.kinds) if k == "distractor"]
        if pairs:
            distractor_false_alarms += metrics.term_counts(*zip(*pairs), run.surfaces)[2]
    return {
        "names": f"{hits}/{occurrences}",
        "name_recall": round(hits / occurrences, 3) if occurrences else None,
        "false_alarms": false_alarms,
        "distractor_false_alarms": distractor_false_alarms,
        **({"wrong_replacements": wrong} if wrong is not None else {}),
        "cer": round(metrics.cer(refs, hyps), 4),
        "cer_numbers": round(metrics.cer_numbers(refs, hyps), 4),
    }


def corrected_figures(runs: list[Run], options: DictionaryOptions) -> dict[str, Any]:
    """The figures of the recognizer's text corrected with ``options``."""
    texts, wrong = [], 0
    for run in runs:
        corrector = Corrector(run.entries, options)
        per_run = []
        for ref, raw in zip(run.refs, run.raw):
            correction = corrector.correct(raw)
            wrong += sum(1 for change in correction.changes if change.replacement not in ref)
            per_run.append(correction.text)
        texts.append(per_run)
    return figures(runs, texts, wrong)


def run_ablation(paths: list[Path], options: DictionaryOptions | None = None, fill: int = 0) -> dict[str, Any]:
    """Every row of the ablation (see the module doc) for the bench outputs at ``paths``; with
    ``fill``, each set's words are topped up with town names to that many entries."""
    base = dataclasses.replace(options or DictionaryOptions(), rules_off=[], fuzzy=True, common_readings=True)
    runs = [load_run(p) for p in paths]
    sources = set()
    for run in runs:
        if fill > len(run.entries):
            run.entries, source = fill_entries(run.entries, fill)
            sources.add(source)
    rows: dict[str, Any] = {
        "bench": figures(runs, [run.shown for run in runs]),
        "none": figures(runs, [run.raw for run in runs]),
        "all": corrected_figures(runs, base),
    }
    for rule in [r.name for r in RULES if r.name not in NEEDS_PARTIALS]:
        rows[f"all but {rule}"] = corrected_figures(runs, dataclasses.replace(base, rules_off=[rule]))
    return {
        "runs": [str(p) for p in paths],
        "sets": [str(run.set_dir) for run in runs],
        "entries": [len(run.entries) for run in runs],
        **({"filled_with": sorted(sources)} if sources else {}),
        "references": sum(len(run.refs) for run in runs),
        "rules": {r.name: r.reason for r in RULES},
        "rows": rows,
    }
