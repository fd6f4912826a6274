"""A resident's reply, translated into the captions' language (Japanese) for the clerk.

The session's translation stage owns one :class:`ReplyTranslator` (``stage.replies``) beside its
caption translators, on the same package folders and settings: captions go from Japanese into
the configured languages, replies come back the other way, loaded on the first reply in each
language.
"""

from __future__ import annotations

import logging
import threading

from translate.engine import CaptionTranslator
from translate.options import TranslateOptions
from translate.packages import PackageError, PackageStore
from translate.translators import Translator, build_translators, find_route

log = logging.getLogger(__name__)


class ReplyTranslator:
    """``translate(text, language)`` → (Japanese or None, note or None).

    A language with no package (direct or through the pivot) gives its note and no text; a model
    that fails gives a note too: the reply is then shown as typed, never lost.
    """

    def __init__(self, options: TranslateOptions, store: PackageStore | None = None) -> None:
        self.options = options
        self.target = options.source
        self.store = store or PackageStore(options.package_dirs())
        self._translators: dict[str, Translator] = {}
        self._missing: dict[str, str] = {}
        self._lock = threading.Lock()

    def translate(self, text: str, language: str) -> tuple[str | None, str | None]:
        if language == self.target:
            return text, None
        translator = self._translator(language)
        if translator is None:
            return None, self._missing[language]
        try:
            return CaptionTranslator({self.target: translator}).translate(text, self.target).text or None, None
        except Exception as e:  # a broken model must not lose the reply: it is shown untranslated
            log.exception("reply translation %s→%s failed", language, self.target)
            return None, f"翻訳できませんでした（{type(e).__name__}）"

    def _translator(self, language: str) -> Translator | None:
        with self._lock:
            if language in self._translators:
                return self._translators[language]
            if language in self._missing:
                return None
            try:
                route = find_route(self.store, language, self.target, self.options.pivot)
            except PackageError as e:
                log.warning("replies in %s stay untranslated: %s", language, e)
                self._missing[language] = f"{language}→{self.target} の翻訳パッケージがないため、原文のまま表示しています"
                return None
            translator = build_translators({self.target: route}, beam_size=self.options.beam_size,
                                           cpu_threads=self.options.cpu_threads)[self.target]  # fmt: skip
            self._translators[language] = translator
            return translator
