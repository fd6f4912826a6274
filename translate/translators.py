"""Translators: one Argos package run with CTranslate2 + SentencePiece, a cache in front of
it, and a pivot through a second one; they compose as ``Pivot(Cached(Argos), Cached(Argos))``.

A translator takes a list of sentences and returns their translations. Name placeholders
(``⟦n⟧``, see :mod:`translate.names`) are passed to the model as single tokens.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from translate.names import PLACEHOLDER
from translate.packages import (
    INSTALL_HINT,
    Package,
    PackageError,
    PackageStore,
    package_file_name,
)


class Translator(Protocol):
    """Translates sentences from one language to another."""

    name: str  # which model(s): recorded on each event

    def load(self) -> None:
        """Load the model now (otherwise the first translate() does)."""
        ...

    def translate(self, sentences: list[str]) -> list[str]: ...


class ArgosTranslator:
    """One installed Argos package, run directly with CTranslate2 (no PyTorch, no stanza)."""

    def __init__(self, package: Package, *, beam_size: int = 2, cpu_threads: int = 1) -> None:
        self.package = package
        self.name = package.name
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            import ctranslate2
            import sentencepiece

            try:
                tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(self.package.sentencepiece_model))
                model = ctranslate2.Translator(
                    str(self.package.model_dir), device="cpu", inter_threads=1, intra_threads=self.cpu_threads
                )
            except Exception as e:
                raise PackageError(f"{self.name} ({self.package.path}) does not load: {e}") from e
            self._tokenizer, self._model = tokenizer, model

    def tokenize(self, sentence: str) -> list[str]:
        """SentencePiece pieces, each placeholder kept as one token."""
        self.load()
        pieces = self._tokenizer.encode(sentence, out_type=str)
        return merge_placeholders(pieces)

    def translate(self, sentences: list[str]) -> list[str]:
        self.load()
        batch = [self.tokenize(s) for s in sentences]
        todo = [i for i, tokens in enumerate(batch) if tokens]
        out = [""] * len(sentences)
        if not todo:
            return out
        results = self._model.translate_batch(
            [batch[i] for i in todo],
            beam_size=self.beam_size,
            length_penalty=0.2,
            replace_unknowns=True,
            max_batch_size=16,
            max_decoding_length=max(32, 3 * max(len(batch[i]) for i in todo)),
        )
        for i, result in zip(todo, results):
            out[i] = detokenize(result.hypotheses[0])
        return out


def merge_placeholders(pieces: list[str]) -> list[str]:
    """Re-join placeholders that SentencePiece split (``⟦``, ``1``, ``⟧`` → ``⟦1⟧``).

    Pieces that straddle a placeholder's edge are split there; a leading ``▁`` stays a
    piece of its own.
    """
    text = "".join(pieces)
    if "⟦" not in text:
        return pieces
    spans = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
    if not spans:
        return pieces
    cuts = sorted({0, len(text)} | {p for span in spans for p in span} | set(_offsets(pieces)))
    out: list[str] = []
    starts = {start: end for start, end in spans}
    i = 0
    while i < len(cuts) - 1:
        start = cuts[i]
        if start in starts:
            out.append(text[start : starts[start]])
            i = cuts.index(starts[start])
            continue
        out.append(text[start : cuts[i + 1]])
        i += 1
    return out


def _offsets(pieces: list[str]) -> list[int]:
    offsets, position = [], 0
    for piece in pieces:
        offsets.append(position)
        position += len(piece)
    return offsets


def detokenize(tokens: list[str]) -> str:
    text = "".join(tokens).replace("▁", " ")
    return re.sub(r" {2,}", " ", text).strip()


class PivotTranslator:
    """Source → pivot → target with two translators (ja→en→vi)."""

    def __init__(self, first: Translator, second: Translator) -> None:
        self.first, self.second = first, second
        self.name = f"{first.name} + {second.name}"

    def load(self) -> None:
        self.first.load()
        self.second.load()

    def translate(self, sentences: list[str]) -> list[str]:
        return self.second.translate(self.first.translate(sentences))


class CachedTranslator:
    """Remembers the last ``size`` sentence translations (counters repeat themselves)."""

    def __init__(self, inner: Translator, size: int = 512) -> None:
        self.inner = inner
        self.name = inner.name
        self.size = size
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def load(self) -> None:
        self.inner.load()

    def translate(self, sentences: list[str]) -> list[str]:
        out: dict[int, str] = {}
        todo: list[int] = []
        with self._lock:
            for i, sentence in enumerate(sentences):
                if sentence in self._cache:
                    self._cache.move_to_end(sentence)
                    out[i] = self._cache[sentence]
                    self.hits += 1
                else:
                    todo.append(i)
                    self.misses += 1
        if todo:
            unique = list(dict.fromkeys(sentences[i] for i in todo))
            translated = dict(zip(unique, self.inner.translate(unique)))
            with self._lock:
                for sentence, result in translated.items():
                    if self.size:
                        self._cache[sentence] = result
                        self._cache.move_to_end(sentence)
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
            for i in todo:
                out[i] = translated[sentences[i]]
        return [out[i] for i in range(len(sentences))]


@dataclass(frozen=True)
class Route:
    """How one target language is reached: one package, or two through the pivot."""

    source: str
    target: str
    packages: tuple[Package, ...]

    @property
    def pivot(self) -> str | None:
        return self.packages[0].to_code if len(self.packages) == 2 else None

    def describe(self) -> str:
        names = " + ".join(p.name for p in self.packages)
        if self.pivot:
            return f"{self.source}→{self.pivot}→{self.target}, pivot through {self.pivot} ({names})"
        return f"{self.source}→{self.target} ({names})"


def find_route(store: PackageStore, source: str, target: str, pivot: str = "en") -> Route:
    """The direct package, else two through ``pivot``; PackageError says what to install."""
    packages = store.packages()
    by_pair = {}
    for package in packages:
        by_pair.setdefault((package.from_code, package.to_code), package)  # best version first
    if (source, target) in by_pair:
        return Route(source, target, (by_pair[source, target],))
    if pivot not in (source, target) and (source, pivot) in by_pair and (pivot, target) in by_pair:
        return Route(source, target, (by_pair[source, pivot], by_pair[pivot, target]))
    message = f"no {source}→{target} translation package: install {package_file_name(source, target)}"
    if pivot not in (source, target):
        have = [pair for pair in ((source, pivot), (pivot, target)) if pair in by_pair]
        need = [f"{a}→{b}" for a, b in ((source, pivot), (pivot, target)) if (a, b) not in by_pair]
        message += f" (or the {' and '.join(need)} package{'s' if len(need) > 1 else ''} to pivot through {pivot}"
        message += f"; {have[0][0]}→{have[0][1]} is installed)" if have else ")"
    if (target, source) in by_pair:
        message += f"; the installed {by_pair[target, source].name} translates the other way ({target}→{source})"
    raise PackageError(message + f", with: {INSTALL_HINT}")


def build_translators(
    routes: dict[str, Route], *, beam_size: int = 2, cpu_threads: int = 1, cache_size: int = 512
) -> dict[str, Translator]:
    """One translator per language: ``Cached(Argos)``, or ``Pivot(Cached(Argos), Cached(Argos))``.

    A package used by several routes (ja→en for en, and for vi and zh through en) is loaded
    once and has one cache, so the pivot step reuses the English translation already made.
    """
    shared: dict[Path, Translator] = {}

    def step(package: Package) -> Translator:
        if package.path not in shared:
            argos = ArgosTranslator(package, beam_size=beam_size, cpu_threads=cpu_threads)
            shared[package.path] = CachedTranslator(argos, cache_size) if cache_size else argos
        return shared[package.path]

    translators: dict[str, Translator] = {}
    for language, route in routes.items():
        steps = [step(p) for p in route.packages]
        translators[language] = steps[0] if len(steps) == 1 else PivotTranslator(steps[0], steps[1])
    return translators


def timed(translator: Translator, sentences: list[str]) -> tuple[list[str], float]:
    """Translate and return how long it took (seconds)."""
    start = time.perf_counter()
    out = translator.translate(sentences)
    return out, time.perf_counter() - start
