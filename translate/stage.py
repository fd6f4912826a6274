"""The translation stage: sits between the pipeline and the sinks, never delays Japanese.

Each event is forwarded to the sinks at once, unchanged (except that a partial carries the
latest translation of its committed part, which stays valid because committed text never
changes). A worker thread translates the final's display text into every configured
language and forwards the same event again with ``update="translation"``, ``translations``
filled, ``details["translation"] = {lang: {"model": ..., "seconds": ...}}`` and
``details["translated_text"]`` (the Japanese that was translated).

With ``partials`` on, the committed part of a partial is translated too; only the latest
partial waits (an older one still waiting is dropped as stale), and finals are never dropped.
A missing package, a package that does not load or a model that fails at run time is
reported once (log and ``on_problem``, which the CLI shows in the status line) and the
captions go on untranslated in that language.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from captioner.core.events import UPDATE_TRANSLATION, CaptionEvent
from captioner.core.stages import Sink, fan_out
from translate.engine import CaptionTranslator, Translation
from translate.names import Glossary
from translate.options import TranslateOptions
from translate.packages import PackageError, PackageStore
from translate.replies import ReplyTranslator
from translate.translators import build_translators, find_route

log = logging.getLogger(__name__)

_STOP = object()
STATS_KEPT = 10_000


@dataclass
class StageStats:
    """What the stage did; seconds are per caption (lists, for percentiles)."""

    finals: int = 0  # finals forwarded again with translations
    partials: int = 0  # partial translations forwarded
    partials_dropped: int = 0  # stale partial work dropped before it was translated
    failures: int = 0  # translations that raised
    # Per caption, the latest STATS_KEPT (for percentiles):
    model_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_KEPT))  # per final: in the translators
    overhead_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_KEPT))  # per final: stage work beyond them
    delay_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_KEPT))  # per final: arrival → translation ready
    forward_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_KEPT))  # per event: stage time on the pipeline's thread


@dataclass(frozen=True)
class _Work:
    event: CaptionEvent
    text: str
    queued_at: float


class TranslationStage:
    """A sink that forwards to ``sinks`` and adds translations on its own thread; call close()."""

    def __init__(
        self,
        engine: CaptionTranslator,
        sinks: list[Sink],
        *,
        partials: bool = False,
        on_problem: Callable[[str], None] | None = None,
        problems: list[str] | tuple[str, ...] = (),
        replies: ReplyTranslator | None = None,
    ) -> None:
        self.engine = engine
        self.replies = replies  # the other way: a resident's reply into the captions' language
        self.sink = fan_out(sinks)
        self.partials = partials
        self.on_problem = on_problem
        self.stats = StageStats()
        self._reported: list[str] = []
        self._reported_keys: set[str] = set()
        self._broken: set[str] = set()  # languages whose model does not load
        self._cond = threading.Condition()
        self._forward_lock = threading.Lock()
        self._finals: deque[_Work] = deque()
        self._partial: _Work | None = None  # only the latest partial waits
        self._carried: dict[int, tuple[dict[str, str], dict]] = {}  # utterance → latest partial translation
        self._final_seen: deque[int] = deque(maxlen=256)  # recent utterances whose final came
        self._partial_text: dict[int, str] = {}
        self._closed = False
        for problem in problems:
            self.problem(problem)
        self._thread = threading.Thread(target=self._run, name="translate", daemon=False)
        self._thread.start()

    @property
    def languages(self) -> list[str]:
        return self.engine.languages

    # -- pipeline side (never waits for a translation) -----------------------------------

    def __call__(self, event: CaptionEvent) -> None:
        start = time.perf_counter()
        uid = event.utterance_id
        work = None
        with self._cond:
            carried = self._carried.get(uid)
            if event.is_final:
                self._final_seen.append(uid)  # from now on no partial translation of it is shown
                self._carried.pop(uid, None)
                self._partial_text.pop(uid, None)
                if event.display_text.strip() and self.languages and not self._closed:
                    work = _Work(event, event.display_text, start)
            elif self.partials and self.languages and not self._closed:
                text = event.display_committed.strip()
                if text and text != self._partial_text.get(uid):
                    self._partial_text[uid] = text
                    work = _Work(event, text, start)
        if carried is not None and not event.is_final and not event.translations:
            event = _with_translations(event, *carried)
        prepared = time.perf_counter()
        self._forward(event)  # the Japanese first: its update can only follow
        queued = time.perf_counter()
        if work is not None:
            with self._cond:
                if event.is_final:
                    if self._partial is not None and self._partial.event.utterance_id == uid:
                        self._partial = None
                        self.stats.partials_dropped += 1
                    self._finals.append(work)
                else:
                    if self._partial is not None:
                        self.stats.partials_dropped += 1
                    self._partial = work
                self._cond.notify()
        self.stats.forward_seconds.append((prepared - start) + (time.perf_counter() - queued))

    def close(self) -> None:
        """Translate what is still waiting (finals), then stop the worker and join it."""
        with self._cond:
            if self._closed and not self._thread.is_alive():
                return
            self._closed = True
            self._finals.append(_STOP)  # type: ignore[arg-type]
            self._cond.notify()
        self._thread.join()

    def __enter__(self) -> TranslationStage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def problem(self, message: str, key: str | None = None) -> None:
        """Report a problem once (per ``key``, else per message): log it and pass it to ``on_problem``."""
        with self._cond:
            if (key or message) in self._reported_keys:
                return
            self._reported_keys.add(key or message)
            self._reported.append(message)
        log.warning("translation: %s", message)
        if self.on_problem is not None:
            try:
                self.on_problem(message)
            except Exception:
                log.exception("on_problem callback failed")

    @property
    def problems(self) -> list[str]:
        """The problems reported so far, in order."""
        with self._cond:
            return list(self._reported)

    # -- worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        for language in self.languages:
            self._load(language)
        while (work := self._next()) is not None:
            try:
                self._translate(work)
            except Exception as e:  # never let the worker die: captions go on untranslated
                log.exception("translation worker")
                self.problem(f"translation failed: {e}", key="worker")

    def _load(self, language: str) -> None:
        try:
            self.engine.translators[language].load()
        except Exception as e:
            self._broken.add(language)
            self.problem(f"{language}: {e}")

    def _next(self) -> _Work | None:
        with self._cond:
            while True:
                if self._finals:
                    work = self._finals.popleft()
                    return None if work is _STOP else work
                if self._partial is not None:
                    work, self._partial = self._partial, None
                    return work
                self._cond.wait()

    def _translate(self, work: _Work) -> None:
        start = time.perf_counter()
        event = work.event
        with self._cond:
            if not event.is_final and event.utterance_id in self._final_seen:
                self.stats.partials_dropped += 1
                return  # the final came while this partial waited
        terms = self.engine.terms(work.text)
        results: dict[str, Translation] = {}
        given = event.translations if event.is_final else {}  # a resident's reply carries its own words
        for language in self.languages:
            if language in self._broken or language in given:
                continue
            try:
                results[language] = self.engine.translate(work.text, language, terms)
            except Exception as e:
                self.stats.failures += 1
                self.problem(
                    f"{language}: the model failed ({type(e).__name__}: {e}); captions continue untranslated",
                    key=f"{language}: fails at run time",
                )
        if not results:
            return
        translations = {**given, **{lang: r.text for lang, r in results.items()}}
        details = {
            "translation": {lang: {"model": r.model, "seconds": round(r.seconds, 4)} for lang, r in results.items()},
            "translated_text": work.text,
        }
        model_seconds = sum(r.seconds for r in results.values())
        if event.is_final:
            update = dataclasses.replace(_with_translations(event, translations, details), update=UPDATE_TRANSLATION)
            ready = time.perf_counter()
            self._forward(update)
            self.stats.finals += 1
            self.stats.model_seconds.append(model_seconds)
            self.stats.overhead_seconds.append(ready - start - model_seconds)
            self.stats.delay_seconds.append(ready - work.queued_at)
            return
        with self._forward_lock:  # a partial's translation never overtakes its final
            with self._cond:
                if event.utterance_id in self._final_seen:
                    return
                self._carried[event.utterance_id] = (translations, details)
            self.sink(dataclasses.replace(_with_translations(event, translations, details), update=UPDATE_TRANSLATION))
        self.stats.partials += 1

    # -- forwarding ------------------------------------------------------------------------

    def _forward(self, event: CaptionEvent) -> float:
        """Call every sink; return the seconds the sinks took."""
        start = time.perf_counter()
        with self._forward_lock:
            self.sink(event)
        return time.perf_counter() - start

def _with_translations(event: CaptionEvent, translations: dict[str, str], details: dict) -> CaptionEvent:
    return dataclasses.replace(event, translations=dict(translations), details={**event.details, **details})


def build_stage(
    options: TranslateOptions,
    sinks: list[Sink],
    *,
    glossary: Glossary | None = None,
    on_problem: Callable[[str], None] | None = None,
    store: PackageStore | None = None,
) -> TranslationStage:
    """The stage for the configured languages; a missing pair is a reported problem, not an error."""
    store = store or PackageStore(options.package_dirs())
    routes = {}
    problems = []
    for language in options.languages:
        try:
            routes[language] = find_route(store, options.source, language, options.pivot)
        except PackageError as e:
            problems.append(f"{language}: {e}")
            continue
        log.info("translation to %s: %s", language, routes[language].describe())
    translators = build_translators(
        routes, beam_size=options.beam_size, cpu_threads=options.cpu_threads, cache_size=options.cache_size
    )
    engine = CaptionTranslator(translators, glossary)
    return TranslationStage(
        engine, sinks, partials=options.partials, on_problem=on_problem, problems=problems,
        replies=ReplyTranslator(options, store),
    )  # fmt: skip
