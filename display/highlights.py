"""What a final caption marks and which picture it shows, for the caption window and the web hub.

The facts are :func:`captioner.core.facts.find_facts` with the registered words of the running
dictionary; the picture is that of the first registered word with a picture
(:mod:`dictionary.pictures`) in the text. The words come from a callable, so a hot reload of
the dictionary is seen at the next caption.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from captioner.core.facts import Fact, find_facts
from dictionary.entries import Entry
from dictionary.pictures import Picture, PictureFolder, media_type


class Highlights:
    """Facts and pictures of caption texts (``marks: False`` turns the marking off)."""

    def __init__(self, entries: Callable[[], Sequence[Entry]], folder: str | Path | None = None, *, marks: bool = True) -> None:
        self.entries = entries
        self.pictures = PictureFolder(folder) if folder is not None else None
        self.marks = marks
        self._of: tuple[object, list[str], list[tuple[str, str]]] = (None, [], [])

    def facts(self, text: str) -> list[Fact]:
        """The spans to mark in ``text`` (none when marking is off)."""
        return find_facts(text, self._words()[0]) if self.marks and text else []

    def picture(self, text: str) -> Picture | None:
        """The picture of the first registered word (by position) in ``text`` that has one."""
        found = [(text.find(word), -len(word), word, value) for word, value in self._words()[1] if word in text]
        for _, _, word, value in sorted(found):
            if media_type(value) is None or (self.pictures is not None and self.pictures.path(value) is not None):
                return Picture(word, value)
        return None

    def _words(self) -> tuple[list[str], list[tuple[str, str]]]:
        entries = self.entries()
        if self._of[0] is not entries:
            words = [e.surface for e in entries]
            pictured = [(e.surface, e.picture) for e in entries if e.picture]
            self._of = (entries, words, pictured)
        return self._of[1], self._of[2]
