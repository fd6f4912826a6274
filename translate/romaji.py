"""Hepburn romanization of kana readings (for names without a translation).

The style is the one on Japanese road signs, station names and passports: long vowels are
not marked (おお, おう → o; うう → u; ー is dropped), so 大島 おおしま → Oshima and 東京
とうきょう → Tokyo; えい and いい stay (めい → mei, にいがた → Niigata). Otherwise modified
Hepburn: し shi, ち chi, つ tsu, ふ fu, じ/ぢ ji, づ zu, を o; っ doubles the next consonant
(っち → tchi); ん is m before b, m and p (しんばし → Shimbashi) and n' before a vowel or y
(かんい → kan'i).
"""

from __future__ import annotations

import unicodedata

BASE = {
    "あ": "a", "い": "i", "う": "u", "え": "e", "お": "o",
    "か": "ka", "き": "ki", "く": "ku", "け": "ke", "こ": "ko",
    "が": "ga", "ぎ": "gi", "ぐ": "gu", "げ": "ge", "ご": "go",
    "さ": "sa", "し": "shi", "す": "su", "せ": "se", "そ": "so",
    "ざ": "za", "じ": "ji", "ず": "zu", "ぜ": "ze", "ぞ": "zo",
    "た": "ta", "ち": "chi", "つ": "tsu", "て": "te", "と": "to",
    "だ": "da", "ぢ": "ji", "づ": "zu", "で": "de", "ど": "do",
    "な": "na", "に": "ni", "ぬ": "nu", "ね": "ne", "の": "no",
    "は": "ha", "ひ": "hi", "ふ": "fu", "へ": "he", "ほ": "ho",
    "ば": "ba", "び": "bi", "ぶ": "bu", "べ": "be", "ぼ": "bo",
    "ぱ": "pa", "ぴ": "pi", "ぷ": "pu", "ぺ": "pe", "ぽ": "po",
    "ま": "ma", "み": "mi", "む": "mu", "め": "me", "も": "mo",
    "や": "ya", "ゆ": "yu", "よ": "yo",
    "ら": "ra", "り": "ri", "る": "ru", "れ": "re", "ろ": "ro",
    "わ": "wa", "ゐ": "i", "ゑ": "e", "を": "o", "ゔ": "vu",
    "ぁ": "a", "ぃ": "i", "ぅ": "u", "ぇ": "e", "ぉ": "o", "ゃ": "ya", "ゅ": "yu", "ょ": "yo", "ゎ": "wa",
}
# Two-kana syllables: a consonant kana + a small kana.
DIGRAPHS = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo", "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo",
    "しゃ": "sha", "しゅ": "shu", "しょ": "sho", "しぇ": "she", "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "じぇ": "je",
    "ちゃ": "cha", "ちゅ": "chu", "ちょ": "cho", "ちぇ": "che", "ぢゃ": "ja", "ぢゅ": "ju", "ぢょ": "jo",
    "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo", "ひゃ": "hya", "ひゅ": "hyu", "ひょ": "hyo",
    "びゃ": "bya", "びゅ": "byu", "びょ": "byo", "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo",
    "みゃ": "mya", "みゅ": "myu", "みょ": "myo", "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo",
    "ふぁ": "fa", "ふぃ": "fi", "ふぇ": "fe", "ふぉ": "fo", "ふゅ": "fyu",
    "てぃ": "ti", "でぃ": "di", "とぅ": "tu", "どぅ": "du", "でゅ": "dyu", "つぁ": "tsa",
    "うぃ": "wi", "うぇ": "we", "うぉ": "wo", "ゔぁ": "va", "ゔぃ": "vi", "ゔぇ": "ve", "ゔぉ": "vo",
}
VOWELS = "aeiou"


def to_hiragana(text: str) -> str:
    """Katakana (also half-width) to hiragana; other characters unchanged."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" and c not in "ヵヶ" else c for c in text)


def syllables(kana: str) -> list[str]:
    """Split hiragana/katakana into romanized syllables; っ is "*", ん is "N", ー is "-"."""
    text = to_hiragana(kana)
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in DIGRAPHS:
            out.append(DIGRAPHS[pair])
            i += 2
            continue
        char = text[i]
        if char == "っ":
            out.append("*")
        elif char == "ん":
            out.append("N")
        elif char == "ー":
            out.append("-")
        elif char in BASE:
            out.append(BASE[char])
        elif char in "ヵヶ":
            out.append("ka" if char == "ヵ" else "ke")
        else:
            out.append(char)  # not kana: kept as it is
        i += 1
    return out


def hepburn(kana: str) -> str:
    """Romanize a kana reading (lower case), in the style described in the module docstring."""
    parts = syllables(kana)
    out = ""
    for i, part in enumerate(parts):
        following = next((p for p in parts[i + 1 :] if p not in ("-",)), "")
        if part == "*":  # small tsu: double the next consonant
            if following.startswith("ch"):
                out += "t"
            elif following[:1].isalpha() and following[:1] not in VOWELS and following not in ("N", "*"):
                out += following[0]
            continue
        if part == "N":
            if following[:1] in ("b", "m", "p"):
                out += "m"
            elif following[:1] in tuple(VOWELS) + ("y",):
                out += "n'"
            else:
                out += "n"
            continue
        if part == "-":
            continue  # long-vowel mark: not written
        if part in ("u", "o") and out.endswith("o") and _syllable_vowel_ends(out):
            continue  # おう, おお → o
        if part == "u" and out.endswith("u") and _syllable_vowel_ends(out):
            continue  # うう → u
        out += part
    return out


def romanize_name(kana: str) -> str:
    """A name for display in a Latin-script language: Hepburn, each word capitalized."""
    return " ".join(word[:1].upper() + word[1:] for word in hepburn(kana).split(" ") if word)


def _syllable_vowel_ends(text: str) -> bool:
    """The text ends in a vowel that belongs to a syllable (not an apostrophe'd n)."""
    return bool(text) and text[-1] in VOWELS
