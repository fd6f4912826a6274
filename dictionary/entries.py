"""A dictionary entry and the kana normalization used to compare readings."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

import jaconv

HIRAGANA = re.compile(r"^[\u3041-\u3096ー]+$")
SMALL_TO_LARGE = str.maketrans("ぁぃぅぇぉゎゕゖ", "あいうえおわかけ")
VOWEL_OF: dict[str, str] = {}
for _vowel, _row in {
    "a": "あかさたなはまやらわがざだばぱゃ",
    "i": "いきしちにひみりぎじぢびぴ",
    "u": "うくすつぬふむゆるぐずづぶぷゅゔ",
    "e": "えけせてねへめれげぜでべぺ",
    "o": "おこそとのほもよろをごぞどぼぽょ",
}.items():
    for _kana in _row:
        VOWEL_OF[_kana] = _vowel
LONG_AFTER = {"a": "あ", "i": "い", "u": "う", "e": "いえ", "o": "うお"}


@dataclass(frozen=True)
class Entry:
    """One registered word: shown as ``surface``, recognised by its ``reading``."""

    surface: str
    reading: str  # hiragana
    aliases: tuple[str, ...] = ()
    translations: dict[str, str] = field(default_factory=dict)
    note: str = ""
    priority: int = 0
    source: str = ""
    picture: str = ""  # a picture file in the dictionary's pictures folder, or a short text card (dictionary.pictures)  # "file:line" it was loaded from

    @cached_property  # computed once: a large dictionary asks for it several times per entry
    def key(self) -> str:
        """The normalized reading used for matching."""
        return normalize_reading(self.reading)


def to_hiragana(text: str) -> str:
    """Katakana (full or half width) to hiragana; other characters unchanged."""
    return jaconv.kata2hira(unicodedata.normalize("NFKC", text))


def is_kana_reading(text: str) -> bool:
    """True for a reading written only in hiragana/katakana (and ー)."""
    return bool(HIRAGANA.match(to_hiragana(text)))


def normalize_reading(reading: str) -> str:
    """A comparison key for readings: what ASR and analyzers disagree on is folded away.

    Hiragana; small vowels enlarged; っ and ー dropped; long vowels shortened (ほうふ, ほーふ
    and ほふ all become ほふ); ぢ/づ as じ/ず; を as お.
    """
    return extend_key("", to_hiragana(reading))


def extend_key(key: str, hiragana: str) -> str:
    """``normalize_reading(reading + hiragana)`` for a ``key`` that is ``normalize_reading(reading)``
    (readings grown a kana at a time are not normalized again from the start)."""
    text = hiragana.translate(SMALL_TO_LARGE)
    text = text.replace("っ", "").replace("ー", "").replace("ぢ", "じ").replace("づ", "ず").replace("を", "お")
    out = key
    for kana in text:
        if out and kana in LONG_AFTER.get(VOWEL_OF.get(out[-1], ""), ""):
            continue
        out += kana
    return out
