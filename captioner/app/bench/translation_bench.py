"""``captioner translate bench``: what the translation stage costs per caption.

Final captions go through a real :class:`~translate.stage.TranslationStage` one at a time
(each waits for its translation, so no queueing is measured). Reported per caption, in ms:
the time in the translators (tokenizer + model; a cache hit on later rounds), the stage's
own work beyond that (``overhead_ms``: names, sentence splitting, the event update), and the
time the stage adds before the Japanese caption reaches the sinks (``japanese_forward_ms``).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import threading
from pathlib import Path
from typing import Any

import yaml

from captioner.core.events import UPDATE_TRANSLATION, CaptionEvent
from captioner.core.metrics import percentile
from translate.names import ListGlossary
from translate.options import TranslateOptions
from translate.packages import PackageError, PackageStore
from translate.stage import TranslationStage, build_stage
from translate.translators import CachedTranslator, PivotTranslator, find_route

# Typical counter phrases (used when no evaluation set is given).
SAMPLE_TEXTS = [
    "こんにちは、本日はどのようなご用件でしょうか。",
    "住民票の写しが必要なんですね。",
    "こちらの用紙にお名前とご住所をご記入ください。",
    "本人確認書類はお持ちですか？",
    "マイナンバーカードか運転免許証をお願いします。",
    "番号札をお取りになって、あちらでお待ちください。",
    "周南市に転入されたのはいつですか。",
    "手数料は三百円です。",
    "お待たせしました、こちらが住民票の写しです。",
    "ほかにご用件はございますか？",
]


def load_texts(set_dir: Path | None) -> list[str]:
    if set_dir is None:
        return list(SAMPLE_TEXTS)
    path = set_dir / "refs.json"
    try:
        return [str(item["text"]) for item in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise PackageError(f"{path}: not a readable reference list ({e})") from e


def load_glossary(set_dir: Path | None) -> ListGlossary | None:
    path = set_dir / "dictionary.yaml" if set_dir else None
    if path is None or not path.is_file():
        return None
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return ListGlossary(e for e in entries if isinstance(e, dict))


def make_tiny_store(
    folder: Path, source: str, languages: list[str], pivot: str, texts: list[str], size: str = "tiny"
) -> PackageStore:
    """Generated packages: source→pivot directly, every other language through the pivot."""
    from captioner.app.bench.tiny_argos import build_package

    store = PackageStore([folder / "packages"])
    first = build_package(folder / f"{source}_{pivot}.argosmodel", source, pivot, texts, symbols=_placeholders(), size=size)
    files = [first]
    for language in languages:
        if language != pivot:
            files.append(build_package(folder / f"{pivot}_{language}.argosmodel", pivot, language, texts, size=size))
    for file in files:
        store.install(file)
    return store


def _placeholders() -> list[str]:
    return [f"⟦{i}⟧" for i in range(10)]


class _Waiter:
    """A sink that lets the bench wait for the translated update of one utterance."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.updates: dict[int, CaptionEvent] = {}

    def __call__(self, event: CaptionEvent) -> None:
        if event.is_final and event.update == UPDATE_TRANSLATION:
            with self._cond:
                self.updates[event.utterance_id] = event
                self._cond.notify_all()

    def wait(self, uid: int, timeout: float) -> CaptionEvent | None:
        with self._cond:
            self._cond.wait_for(lambda: uid in self.updates, timeout)
            return self.updates.get(uid)


def run_translation_bench(
    options: TranslateOptions,
    *,
    languages: list[str] | None = None,
    tiny: str | None = None,
    set_dir: Path | None = None,
    rounds: int = 2,
) -> dict[str, Any]:
    """Bench the installed packages, or generated ones (``tiny="tiny"`` or ``"base"``, see captioner.app.bench.tiny_argos.SIZES)."""
    texts = load_texts(set_dir)
    glossary = load_glossary(set_dir)
    languages = languages or options.languages or (["en", "vi", "zh"] if tiny else [])
    if not languages:
        raise PackageError("no target languages: set translate.languages in the configuration or pass --languages")
    options = dataclasses.replace(options, languages=languages)
    options.validate()
    with tempfile.TemporaryDirectory(prefix="translate-bench-") as tmp:
        if tiny:
            store = make_tiny_store(Path(tmp), options.source, languages, options.pivot, texts, size=tiny)
        else:
            store = PackageStore(options.package_dirs())
        routes = {}
        for language in languages:
            try:
                routes[language] = find_route(store, options.source, language, options.pivot).describe()
            except PackageError as e:
                routes[language] = f"MISSING: {e}"
        waiter = _Waiter()
        stage = build_stage(options, [waiter], glossary=glossary, store=store)
        try:
            if not stage.languages:
                raise PackageError("no language can be translated: " + "; ".join(stage.problems))
            per_round = []
            uid = 0
            for _ in range(max(rounds, 1)):
                first = len(stage.stats.model_seconds)
                for text in texts:
                    stage(CaptionEvent("final", uid, text, 0.0, 1.0, 0.0, committed=text))
                    if waiter.wait(uid, timeout=120) is None:
                        raise PackageError(f"no translation within 120 s for: {text}")
                    uid += 1
                per_round.append(first)
        finally:
            stage.close()
    stats = stage.stats
    model = list(stats.model_seconds)
    overhead = list(stats.overhead_seconds)
    rounds_out = []
    for index, first in enumerate(per_round):
        last = per_round[index + 1] if index + 1 < len(per_round) else len(model)
        rounds_out.append({
            "round": index + 1,
            "model_ms": _ms(model[first:last]),
            "overhead_ms": _ms(overhead[first:last]),
        })  # fmt: skip
    cache = _caches(stage.engine.translators.values())
    examples = [
        {"ja": e.details["translated_text"], **e.translations} for _, e in sorted(waiter.updates.items())[: min(3, len(texts))]
    ]
    return {
        "packages": _describe_packages(tiny),
        "languages": routes,
        "captions": len(texts),
        "rounds": rounds_out,
        "overhead_ms": _ms(overhead),
        "japanese_forward_ms": _ms(list(stats.forward_seconds)),
        "cache": {"hits": sum(t.hits for t in cache), "misses": sum(t.misses for t in cache)},
        "beam_size": options.beam_size,
        "cpu_threads": options.cpu_threads,
        "glossary_terms": len(glossary) if glossary else 0,
        "problems": stage.problems,
        "examples": examples,
    }


def stage_summary(stage: TranslationStage) -> dict[str, Any]:
    """What a stage did, per caption in ms (``captioner bench`` reports this for its replays)."""
    stats = stage.stats
    caches = _caches(stage.engine.translators.values())
    return {
        "languages": {language: translator.name for language, translator in stage.engine.translators.items()},
        "finals_translated": stats.finals,
        "partials_translated": stats.partials,
        "partials_dropped": stats.partials_dropped,
        "failures": stats.failures,
        "model_ms": _ms(list(stats.model_seconds)),  # all languages of one caption
        "overhead_ms": _ms(list(stats.overhead_seconds)),
        "ready_after_japanese_ms": _ms(list(stats.delay_seconds)),
        "japanese_forward_ms": _ms(list(stats.forward_seconds)),
        "cache": {"hits": sum(c.hits for c in caches), "misses": sum(c.misses for c in caches)},
        "problems": stage.problems,
    }


def _describe_packages(size: str | None) -> str:
    if size == "base":
        return "generated, base size: a real Argos model's layers, width and vocabulary (zero extra weights), copying pieces"
    if size:
        return "generated, tiny (one layer): measures the stage, the model time is not a real model's"
    return "installed"


def _caches(translators) -> list[CachedTranslator]:
    """The distinct caches behind the translators (a pivot's steps share them)."""
    found: dict[int, CachedTranslator] = {}
    for translator in translators:
        for step in (translator.first, translator.second) if isinstance(translator, PivotTranslator) else (translator,):
            if isinstance(step, CachedTranslator):
                found[id(step)] = step
    return list(found.values())


def _ms(values: list[float]) -> dict[str, float | None]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 3)

    return {"p50": r(percentile(values, 50)), "p95": r(percentile(values, 95)), "max": r(max(values) if values else None)}
