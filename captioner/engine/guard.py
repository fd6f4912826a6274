"""Hallucination guard: decide whether a decoded hypothesis is speech worth showing."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from captioner.core.metrics import IGNORED, normalize
from captioner.engine.recognizer import Hypothesis, compression_ratio

KNOWN_PHRASES = [
    "ご視聴ありがとうございました",
    "ご清聴ありがとうございました",
    "ありがとうございました",
    "チャンネル登録よろしくお願いします",
    "チャンネル登録お願いします",
    "お疲れ様でした",
    "おやすみなさい",
    "字幕視聴ありがとうございました",
    "最後までご視聴いただきありがとうございます",
    "次回もお楽しみに",
    "ご覧いただきありがとうございます",
    "では",
    "はい",
]
LATIN_SCRIPT_LANGUAGES = ("ja", "zh", "ko")  # captions in these languages are not written in Latin letters
WRONG_SCRIPT_SHARE = 0.5  # Latin letters in more than this share of the characters: a failed decoding
WRONG_SCRIPT_MIN_LETTERS = 6  # ... and at least this many (ＡＴＭ, ＱＲコード, NHK are Japanese)
MIN_LOOP_SURVIVOR = 3  # a loop that collapses to this few characters was not speech
LOOP_IGNORED = IGNORED - set("ー〜~-")  # punctuation copies of a loop may differ in (ー is part of a word)



@dataclass
class GuardOptions:
    """Thresholds for dropping non-speech decodings (``guard:`` in the config)."""

    no_speech_threshold: float = 0.4
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    known_phrases: list[str] = field(default_factory=lambda: list(KNOWN_PHRASES))
    known_phrase_min_logprob: float = -0.4
    known_phrase_max_no_speech: float = 0.2
    # Backends without a no-speech probability (sherpa-onnx) write 1-3 characters on noise: a
    # single character, or up to ``sparse_max_chars`` at under ``sparse_min_chars_per_second``
    # of the audio decoded (pre-roll and tail included: はい alone is about 2 a second), is dropped.
    sparse_max_chars: int = 3
    sparse_min_chars_per_second: float = 1.5

    def validate(self) -> None:
        if not 0.0 <= self.no_speech_threshold <= 1.0:
            raise ValueError("no_speech_threshold must be between 0 and 1")


def strip_repetition(text: str, long_unit: int = 5, short_copies: int = 4, restart: int = 8) -> str:
    """Collapse decoding loops: a phrase repeated back to back keeps one copy.

    Phrases of ``long_unit`` or more characters count as a loop from the second copy;
    shorter ones (``はいはい``) only from ``short_copies`` copies on, as people do repeat them.
    Text after the loop is kept, unless it is just the start of another copy. A text that ends
    by starting itself over (``restart`` or more characters of a phrase as long) loses that
    tail: Whisper does this at the end of the audio. Punctuation and spaces are ignored when
    comparing (copies often differ by a 、 or 。) and kept in what remains.
    """
    start = 0
    while True:
        kept = [i for i, c in enumerate(text) if not c.isspace() and c not in LOOP_IGNORED]
        bare = "".join(text[i] for i in kept)
        loop = _find_loop(bare, kept, start, long_unit, short_copies, restart)
        if loop is None:
            return text
        start, size, end, drop_rest = loop
        first_end = kept[start + size]  # the second copy starts here; punctuation before it stays
        rest = "" if drop_rest or end >= len(bare) else text[kept[end] :]
        text = text[:first_end].rstrip() + rest


def _find_loop(
    bare: str, kept: list[int], start: int, long_unit: int, short_copies: int, restart: int
) -> tuple[int, int, int, bool] | None:
    """(start, unit size, end of the last copy, whether the rest is a cut-off copy) of the first
    loop in ``bare`` (the text without punctuation; ``kept`` maps it back)."""
    for position in range(start, len(bare)):
        remaining = len(bare) - position
        for size in range(1, remaining // 2 + 1):
            written = kept[position + size] - kept[position]  # with its punctuation: やつしろ、 is long
            needed = 2 if written >= long_unit else short_copies
            unit = bare[position : position + size]
            copies = 1
            while bare.startswith(unit, position + copies * size):
                copies += 1
            if copies >= needed:
                end = position + copies * size
                return position, size, end, unit.startswith(bare[end:])
        for size in range(max(restart, (remaining + 1) // 2), remaining - restart + 1):
            if bare.startswith(bare[position + size :], position):  # a restart cut off by the end
                return position, size, len(bare), True
    return None


WRONG_SCRIPT = "wrong script"


@dataclass(frozen=True)
class Verdict:
    """The text to show (decoding loops collapsed), or why nothing is shown."""

    text: str
    reason: str | None = None


def wrong_script(text: str, language: str) -> bool:
    """A caption in ``language`` (Japanese, Chinese, Korean) that came out in romaji or English:
    Whisper sometimes transliterates an unfamiliar voice (fukushi no madoguchi)."""
    if language not in LATIN_SCRIPT_LANGUAGES:
        return False
    bare = normalize(text)
    letters = sum(1 for c in bare if c.isascii() and c.isalpha())
    return letters >= WRONG_SCRIPT_MIN_LETTERS and letters > WRONG_SCRIPT_SHARE * len(bare)


def check(
    hyp: Hypothesis, options: GuardOptions, prompted: Collection[str] = (), language: str = "", audio_seconds: float | None = None
) -> Verdict:
    """Screen one decoding: drop non-speech, collapse decoding loops in speech.

    ``prompted``: the words the decoding was primed with; a decoding that is nothing but
    those words needs the same evidence as a known hallucination (a name in the prompt is what
    the decoder says when it hears nothing it knows). ``language``: the caption language; a
    Japanese decoding written in Latin letters is rejected as "wrong script". ``audio_seconds``
    (given for a backend without a no-speech probability): the audio decoded; one character, or
    a few over much audio, are noise ("sparse text").
    """
    text = normalize(hyp.text)
    if not text:
        return Verdict("", "empty")
    if audio_seconds is not None and (
        len(text) == 1 or len(text) <= options.sparse_max_chars and len(text) < options.sparse_min_chars_per_second * audio_seconds
    ):
        return Verdict("", "sparse text")
    if wrong_script(hyp.text, language):
        return Verdict("", WRONG_SCRIPT)
    if hyp.no_speech_prob > options.no_speech_threshold and hyp.avg_logprob < options.log_prob_threshold:
        return Verdict("", "no speech")
    if hyp.avg_logprob < options.log_prob_threshold * 1.5:
        return Verdict("", "low confidence")
    collapsed = strip_repetition(hyp.text)
    if collapsed != hyp.text and len(normalize(collapsed)) <= MIN_LOOP_SURVIVOR:
        return Verdict("", "repetition loop")  # beeps come out as ピッピッピッ
    if hyp.no_speech_prob > options.no_speech_threshold and normalize(hyp.text).startswith(normalize(collapsed) * 2):
        return Verdict("", "no speech")  # nothing but a loop: its repeats make avg_logprob look confident
    if compression_ratio(collapsed) > options.compression_ratio_threshold:
        return Verdict("", "repetition loop")
    known = {normalize(p) for p in options.known_phrases}
    if normalize(collapsed) in known and (
        hyp.avg_logprob < options.known_phrase_min_logprob
        or hyp.no_speech_prob > options.known_phrase_max_no_speech
    ):
        return Verdict("", "known hallucination with weak evidence")
    if prompted and _only_words(normalize(collapsed), prompted) and (
        hyp.avg_logprob < options.known_phrase_min_logprob
        or hyp.no_speech_prob > options.known_phrase_max_no_speech
    ):
        return Verdict("", "prompted words with weak evidence")
    return Verdict(collapsed)


def _only_words(text: str, words: Collection[str]) -> bool:
    """True when ``text`` is made of ``words`` alone (each may repeat), longest first."""
    for word in sorted((normalize(w) for w in words), key=len, reverse=True):
        if word:
            text = text.replace(word, "")
    return not text
