"""Japanese morphological analysis (MeCab via fugashi, UniDic-lite dictionary; offline).

Gives tokens with katakana readings and parts of speech, and furigana for display.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import jaconv


@dataclass(frozen=True)
class Token:
    """One morpheme. ``start``/``end`` are character offsets in the analysed text."""

    surface: str
    kana: str  # katakana reading as written (ホウフ); "" for symbols
    pos: str  # 名詞, 形状詞, 助詞, ...
    pos_detail: str  # 固有名詞, 普通名詞, ...
    start: int
    end: int


def has_kanji(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" or c in "々〆ヶ" for c in text)


class Analyzer:
    """A thread-safe wrapper around one MeCab tagger (created on first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tagger = None

    def tokens(self, text: str) -> list[Token]:
        with self._lock:
            words = [(w.surface, w.feature, w.white_space) for w in self._parse(text)]
        tokens, position = [], 0
        for surface, feature, space in words:
            position += len(space)
            start = text.find(surface, position) if surface else position
            start = position if start < 0 else start
            kana = feature.kana if feature.kana not in (None, "*") else ""
            tokens.append(Token(surface, kana or "", feature.pos1, feature.pos2, start, start + len(surface)))
            position = start + len(surface)
        return tokens

    def proper_noun_reading(self, text: str) -> str:
        """The katakana reading of ``text`` if the analyzer knows it as one proper noun, else "".

        Cheaper than :meth:`tokens` (one dictionary entry per word of a large dictionary)."""
        with self._lock:
            words = self._parse(text)
            if len(words) != 1 or words[0].surface != text:
                return ""
            feature = words[0].feature
        return feature.kana if feature.pos2 == "固有名詞" and feature.kana not in (None, "*") else ""

    def readings_of(self, char: str, limit: int = 10) -> tuple[str, ...]:
        """Every katakana reading the dictionary has for one character (南: ナン, ミナミ), from
        MeCab's ``limit`` best analyses of it alone; given names are left out (正 ただし)."""
        with self._lock:
            paths = self._loaded_tagger().nbestToNodeList(char, limit)
            kana = [w.feature.kana for path in paths if len(path) == 1 for w in path if w.feature.pos3 != "人名"]
        return tuple(dict.fromkeys(k for k in kana if k not in (None, "*", "")))

    def _parse(self, text: str) -> list:
        """MeCab's words for ``text`` (call with the lock held: they are valid until the next parse)."""
        return self._loaded_tagger()(text)

    def _loaded_tagger(self):
        """The MeCab tagger, created on first use (call with the lock held)."""
        if self._tagger is None:
            self._tagger = _new_tagger()
        return self._tagger

    def furigana(self, text: str) -> list[tuple[str, str | None]]:
        """Split ``text`` into (segment, hiragana reading or None) pairs for ruby display.

        Only segments with kanji get a reading; okurigana are split off (痛い → 痛(いた)い).
        """
        pieces: list[tuple[str, str | None]] = []
        position = 0
        for token in self.tokens(text):
            if token.start > position:
                pieces.append((text[position : token.start], None))
            pieces.extend(ruby_pieces(token.surface, jaconv.kata2hira(token.kana)))
            position = token.end
        if position < len(text):
            pieces.append((text[position:], None))
        return pieces


def ruby_pieces(surface: str, reading: str) -> list[tuple[str, str | None]]:
    """Attach ``reading`` to the kanji part of ``surface``, keeping kana outside the ruby."""
    if not has_kanji(surface) or not reading:
        return [(surface, None)]
    hira = jaconv.kata2hira(surface)
    head = 0
    while head < len(surface) and not has_kanji(surface[head]) and head < len(reading) and hira[head] == reading[head]:
        head += 1
    tail = 0
    while (
        tail < len(surface) - head
        and not has_kanji(surface[-1 - tail])
        and tail < len(reading) - head
        and hira[-1 - tail] == reading[-1 - tail]
    ):
        tail += 1
    core_reading = reading[head : len(reading) - tail]
    pieces: list[tuple[str, str | None]] = []
    if head:
        pieces.append((surface[:head], None))
    pieces.append((surface[head : len(surface) - tail], core_reading or None))
    if tail:
        pieces.append((surface[len(surface) - tail :], None))
    return pieces


@lru_cache(maxsize=1)
def shared_analyzer() -> Analyzer:
    """One analyzer per process (the dictionary and the display share it)."""
    return Analyzer()


def _new_tagger():
    try:
        import fugashi
        import unidic_lite  # noqa: F401  (the dictionary fugashi loads)
    except ImportError as e:
        from captioner.core.errors import CaptionerError

        raise CaptionerError(
            "the Japanese analyzer is not installed: pip install fugashi unidic-lite"
        ) from e
    return fugashi.Tagger()
