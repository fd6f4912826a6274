"""Names stay right: dictionary terms are replaced by placeholders before translation and
their target-language form is put back afterwards.

A term with a translation for the target language (``en: Shunan City``) is written that
way; a term without one is written as its Hepburn reading (``Shunanshi``) when the target
uses the Latin script, and left to the model otherwise.

The placeholder is ``⟦n⟧``. The translator passes it to the model as one token: a model
whose vocabulary has it (our tiny test models) copies it; for any other model it is the
unknown token, which CTranslate2 puts back in the output (``replace_unknowns``) at the
place the model aligned it to. When the model drops or mangles a placeholder anyway, the
name is inserted at the same relative position of the translation (at a word boundary), so
a name is never lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from translate.romaji import romanize_name

PLACEHOLDER = re.compile(r"⟦(\d+)⟧")
# Targets written in the Latin script (romanized names are readable there).
LATIN_SCRIPT = frozenset(
    "af az bs ca cs cy da de en eo es et eu fi fil fr ga gl ha hr hu id ig is it jv lt lv ms mt "
    "nl no pl pt ro sk sl so sq sv sw tl tr uz vi wo yo zu".split()
)
# Targets written without spaces between words.
UNSPACED = frozenset("zh zt ja th lo km my bo".split())


def placeholder(index: int) -> str:
    return f"⟦{index}⟧"


def base_language(code: str) -> str:
    """``pt-BR`` → ``pt``; ``zh-Hant`` → ``zh``."""
    return code.split("-")[0].lower()


def is_latin_script(code: str) -> bool:
    return base_language(code) in LATIN_SCRIPT


def uses_spaces(code: str) -> bool:
    return base_language(code) not in UNSPACED


@dataclass(frozen=True)
class GlossaryTerm:
    """A dictionary term found in a text: ``text[start:end] == surface``."""

    start: int
    end: int
    surface: str
    reading: str = ""  # hiragana (or katakana)
    translations: Mapping[str, str] = field(default_factory=dict)


class Glossary(Protocol):
    """Finds the dictionary terms in a caption (the dictionary stage implements it)."""

    def find(self, text: str) -> list[GlossaryTerm]:
        """Non-overlapping terms in ``text``, in order of position."""
        ...


class ListGlossary:
    """A :class:`Glossary` over a list of entries: exact surface matches, longest first.

    Entries are ``{surface, reading, <language code>: translation, ...}`` mappings (the
    format of the evaluation set's ``dictionary.yaml``) or objects with ``surface``,
    ``reading`` and ``translations`` attributes.
    """

    def __init__(self, entries: Iterable[Any]) -> None:
        self._entries: dict[str, GlossaryTerm] = {}
        for entry in entries:
            term = _term_of(entry)
            if term.surface and term.surface not in self._entries:
                self._entries[term.surface] = term
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in sorted(self._entries, key=len, reverse=True)))
            if self._entries
            else None
        )

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, text: str) -> list[GlossaryTerm]:
        if self._pattern is None:
            return []
        found = []
        for match in self._pattern.finditer(text):
            entry = self._entries[match.group()]
            found.append(GlossaryTerm(match.start(), match.end(), entry.surface, entry.reading, entry.translations))
        return found


class EntriesGlossary:
    """A :class:`ListGlossary` that follows a changing entry list (a hot-reloaded dictionary)."""

    def __init__(self, entries: Callable[[], Sequence[Any]]) -> None:
        self._entries = entries
        self._seen: Sequence[Any] | None = None
        self._glossary = ListGlossary(())

    def find(self, text: str) -> list[GlossaryTerm]:
        entries = self._entries()
        if entries is not self._seen:
            self._seen, self._glossary = entries, ListGlossary(entries)
        return self._glossary.find(text)


def glossary_of(dictionary: Any) -> Glossary | None:
    """The glossary of a dictionary stage: its own ``find()``, else its ``entries``; None for none."""
    if dictionary is None:
        return None
    if callable(getattr(dictionary, "find", None)):
        return dictionary
    if hasattr(dictionary, "entries"):
        return EntriesGlossary(lambda: dictionary.entries)
    return ListGlossary(dictionary)


def _term_of(entry: Any) -> GlossaryTerm:
    if isinstance(entry, Mapping):
        translations = {
            str(k): str(v) for k, v in entry.items() if k not in ("surface", "reading", "note", "aliases", "priority") and v
        }
        translations.update(entry.get("translations") or {})
        return GlossaryTerm(0, 0, str(entry.get("surface", "")), str(entry.get("reading", "")), translations)
    return GlossaryTerm(
        0, 0, str(entry.surface), str(getattr(entry, "reading", "") or ""), dict(getattr(entry, "translations", {}) or {})
    )


def rendering(term: GlossaryTerm, language: str) -> str | None:
    """How ``term`` is written in ``language``, or None to let the model translate it."""
    translations = {code.lower(): text for code, text in term.translations.items() if text}
    for code in (language.lower(), base_language(language)):
        if code in translations:
            return translations[code]
    if is_latin_script(language) and term.reading:
        return romanize_name(term.reading)
    return None


@dataclass(frozen=True)
class Slot:
    """One protected name: its placeholder, what replaces it, and where it was (0..1)."""

    placeholder: str
    text: str
    position: float


@dataclass(frozen=True)
class Protected:
    text: str
    slots: tuple[Slot, ...] = ()


def protect(text: str, terms: Iterable[GlossaryTerm], language: str) -> Protected:
    """Replace each term that has a rendering in ``language`` by a placeholder."""
    out: list[str] = []
    slots: list[Slot] = []
    position = 0
    for term in sorted(terms, key=lambda t: t.start):
        if term.start < position or text[term.start : term.end] != term.surface:
            continue  # overlapping or stale: leave it to the model
        written = rendering(term, language)
        if written is None:
            continue
        out.append(text[position : term.start])
        mark = placeholder(len(slots))
        out.append(mark)
        slots.append(Slot(mark, written, (term.start + term.end) / 2 / max(len(text), 1)))
        position = term.end
    out.append(text[position:])
    return Protected("".join(out), tuple(slots))


def restore(translated: str, slots: Iterable[Slot], language: str) -> str:
    """Put each slot's text where its placeholder came out; insert lost ones by position."""
    slots = list(slots)
    spaced = uses_spaces(language)
    by_mark = {slot.placeholder: slot for slot in slots}
    seen: set[str] = set()

    def put(match: re.Match[str]) -> str:
        slot = by_mark.get(match.group())
        if slot is None:
            return ""  # a placeholder the model invented
        seen.add(slot.placeholder)
        return LEFT + slot.text + RIGHT

    text = PLACEHOLDER.sub(put, translated)
    lost = [(_insertion_index(text, slot.position, spaced), i, slot) for i, slot in enumerate(slots) if slot.placeholder not in seen]
    for index, _, slot in sorted(lost, reverse=True):
        text = text[:index] + LEFT + slot.text + RIGHT + text[index:]
    return _fix_spacing(text, spaced)


LEFT, RIGHT = "\x01", "\x02"  # mark a restored name's edges until spacing is fixed


def _insertion_index(text: str, position: float, spaced: bool) -> int:
    """Where a name that was at ``position`` (0..1) of the source goes: the nearest word boundary."""
    index = round(position * len(text))
    if spaced and text:
        boundaries = [0, len(text)] + [i for i, c in enumerate(text) if c == " "]
        index = min(boundaries, key=lambda b: (abs(b - index), b))
    return index


def _fix_spacing(text: str, spaced: bool) -> str:
    """One space between a restored name and a neighbouring word (none in unspaced scripts)."""
    if not spaced:
        return re.sub(r"\s*[\x01\x02]\s*", "", text).strip()
    text = re.sub(r"\s*\x02\s*(?=[.,!?;:)\]»”])", "", text)  # name, then punctuation
    text = re.sub(r"(?<=[(\[«“])\s*\x01", "", text)  # opening bracket, then name
    text = re.sub(r"(?<=\S)\x01", " ", text)
    text = re.sub(r"\x02(?=\S)", " ", text)
    text = text.replace(LEFT, "").replace(RIGHT, "")
    return re.sub(r"  +", " ", text).strip()
