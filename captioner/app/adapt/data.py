"""Training speech for decoder adaptation: counter sentences that use the registered words.

Each registered word is put, by its registered reading, into the name slots of counter
templates (``{town}``, ``{town2}``, ``{city}``) and said by kokoro voices at several speeds,
in a small room with counter noise at several SNRs (the corpus builder's synthesizer and
effects, :mod:`captioner.app.bench.corpus`). Distractor sentences (no registered word) are mixed in
so that ordinary words stay ordinary.

What the evaluation keeps out of training: half of the counter templates and half of the
distractor templates (:func:`template_split`), the Open JTalk voice ``mei`` and the kokoro voice
:data:`HELDOUT_VOICE`, so figures measured on them are on new sentences and new voices.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from captioner.app.adapt.anchors import ANCHOR_SENTENCES
from captioner.app.bench.corpus import effects
from captioner.app.bench.corpus.build import KOKORO_VOICES, SPEEDS, Sentence, _katakana
from captioner.app.bench.corpus.templates import COUNTER_TEMPLATES, DISTRACTOR_TEMPLATES, fill

HELDOUT_VOICE = "jf_alpha"
TRAIN_VOICES = tuple(v for v in KOKORO_VOICES if v != HELDOUT_VOICE)
SNRS = (None, 30, 20, 10)  # dry, then room + noise at these SNRs (dB)
NAME_SLOTS = ("town", "town2", "city")
EDGE_S = 0.3  # audio kept before and after the speech, as the VAD's pre-roll and final tail do
CITY_SUFFIXES = ("市", "町", "村", "区")
PLAN_VERSION = 2  # bump when the same words give other sentences: stored encoder outputs are keyed by it


@dataclass(frozen=True)
class Word:
    surface: str
    reading: str  # hiragana


@dataclass(frozen=True)
class Example:
    """One training utterance: what is said, how, and what the decoder must write."""

    id: str
    text: str
    spoken: str
    voice: str
    speed: float
    snr: float | None
    previous: str = ""  # the caption before it (``asr.condition_on_previous``)


def template_split(template: str) -> str:
    """``train`` or ``heldout``: a fixed half of the templates (by checksum, not by position)."""
    return "heldout" if zlib.crc32(template.encode("utf-8")) % 2 else "train"


def training_templates() -> list[str]:
    return [t for _, t in COUNTER_TEMPLATES if template_split(t) == "train" and "{town}" in t]


def training_distractors() -> list[str]:
    return [t for t in DISTRACTOR_TEMPLATES if template_split(t) == "train"]


def plan_examples(words: Sequence[Word], per_word: int, plain_share: float, seed: int, anchor_share: float = 0.5) -> list[Example]:
    """``per_word`` sentences per registered word, plus ``plain_share`` of sentences without one.

    Each sentence puts the word into ``{town}``; ``{town2}`` and ``{city}`` get other
    registered words (a city-like one ending in 市/町/村/区 for ``{city}`` where there is one).
    Of the sentences without a word, ``anchor_share`` are everyday sentences far from the
    counter (:data:`~captioner.app.adapt.anchors.ANCHOR_SENTENCES`), the rest distractors.
    Voices, speeds and SNRs rotate so every word is heard in different conditions.
    """
    if not words:
        return []
    rng = random.Random(seed)
    templates = training_templates()
    cities = [w for w in words if w.surface.endswith(CITY_SUFFIXES)] or list(words)
    registered = [w.surface for w in words]
    examples: list[Example] = []
    n = 0
    for word in words:
        for k in range(per_word):
            template = templates[(n + k * 7) % len(templates)]
            other = rng.choice(words)
            city = rng.choice(cities)
            names = {
                "town": (word.surface, _katakana(word.reading)),
                "town2": (other.surface, _katakana(other.reading)),
                "city": (city.surface, _katakana(city.reading)),
            }
            rendered = fill(template, rng, names)
            examples.append(_example(len(examples), rendered.text, rendered.spoken, n, rng))
            n += 1
    plain = round(len(examples) * plain_share / max(1e-9, 1 - plain_share))
    anchors = [a for a in ANCHOR_SENTENCES if not any(s in a for s in registered)]
    rng.shuffle(anchors)
    n_anchors = min(round(plain * anchor_share), len(anchors))
    for text in anchors[:n_anchors]:
        examples.append(_example(len(examples), text, text, n, rng))
        n += 1
    plain -= n_anchors
    distractors = training_distractors()
    attempts, limit = 0, plain * 50  # a filling that holds a registered word is skipped
    while plain > 0 and attempts < limit:
        attempts += 1
        rendered = fill(distractors[attempts % len(distractors)], rng, {})
        if any(s in rendered.text for s in registered):
            continue
        examples.append(_example(len(examples), rendered.text, rendered.spoken, n, rng))
        n += 1
        plain -= 1
    rng.shuffle(examples)
    return [  # the previous caption is the one before it, for half of them (as after a pause)
        replace(e, previous=examples[i - 1].text if i and rng.random() < 0.5 else "") for i, e in enumerate(examples)
    ]


def _example(index: int, text: str, spoken: str, n: int, rng: random.Random) -> Example:
    return Example(
        id=f"a{index:05d}", text=text, spoken=spoken, voice=TRAIN_VOICES[n % len(TRAIN_VOICES)],
        speed=rng.choice(SPEEDS), snr=SNRS[(n // len(TRAIN_VOICES)) % len(SNRS)],
    )  # fmt: skip


def render(example: Example, synth, seed: int) -> np.ndarray:
    """The utterance as the VAD hands it over: speech (room and noise when ``snr``) with edges."""
    sentence = Sentence(example.id, "adapt", "counter", example.text, example.spoken, family="kokoro", voice=example.voice, speed=example.speed)
    x = synth.speech(sentence)
    rng = np.random.default_rng([seed, zlib.crc32(example.id.encode())])
    edge = np.zeros(int(EDGE_S * effects.RATE), np.float32)
    if example.snr is None:
        return np.concatenate([edge, x, edge])
    x = effects.room(x, rng)
    return effects.add_noise(np.concatenate([edge, x, edge]), float(np.mean(x**2)), example.snr, rng)


def batches(items: Sequence, size: int, rng: random.Random) -> Iterator[list]:
    order = list(items)
    rng.shuffle(order)
    for i in range(0, len(order), size):
        yield order[i : i + size]
