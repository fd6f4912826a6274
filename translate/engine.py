"""Translate one caption into one language: protect names, split sentences, translate, restore."""

from __future__ import annotations

import re
from dataclasses import dataclass

from translate.names import Glossary, GlossaryTerm, protect, restore, uses_spaces
from translate.translators import Translator, timed

SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")


def split_sentences(text: str) -> list[str]:
    """Japanese sentences, each with its closing 。！？ (without stanza: on punctuation only)."""
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


@dataclass(frozen=True)
class Translation:
    language: str
    text: str
    model: str
    seconds: float  # spent in the translator (tokenizer + model, or a cache hit)


class CaptionTranslator:
    """Holds one translator per target language and the glossary of names."""

    def __init__(self, translators: dict[str, Translator], glossary: Glossary | None = None) -> None:
        self.translators = translators
        self.glossary = glossary

    @property
    def languages(self) -> list[str]:
        return list(self.translators)

    def terms(self, text: str) -> list[GlossaryTerm]:
        return self.glossary.find(text) if self.glossary is not None else []

    def translate(self, text: str, language: str, terms: list[GlossaryTerm] | None = None) -> Translation:
        translator = self.translators[language]
        protected = protect(text, self.terms(text) if terms is None else terms, language)
        sentences = split_sentences(protected.text)
        translated, seconds = timed(translator, sentences) if sentences else ([], 0.0)
        joined = (" " if uses_spaces(language) else "").join(s for s in translated if s)
        return Translation(language, restore(joined, protected.slots, language), translator.name, seconds)
