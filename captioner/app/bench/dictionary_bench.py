"""``captioner dict bench SET_DIR``: how a large dictionary costs in time (JSON).

A real city registers hundreds of words; the targets are set for 5,000. The benchmark takes
the set's ``dictionary.yaml`` and fills it up to ``--entries`` with real town names and
readings from the postal data (whole prefectures, in a fixed order; generated names when the
``towns`` extra is not installed), writes them as a word file and measures:

- loading the folder (parse + validate), the median of several cold loads;
- building the corrector from the entries (reading index and common readings): loading plus
  building is the time until an edited dictionary is in use;
- correcting captions: every reference sentence of the set and its growing prefixes, as the
  partials of a live caption are, one at a time.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from captioner.core import metrics
from captioner.core.errors import CaptionerError
from captioner.core.evalset import load_references
from dictionary.correct import Corrector
from dictionary.entries import Entry
from dictionary.fields import entry_record
from dictionary.options import DictionaryOptions
from dictionary.store import load_folder, load_word_file, write_records

FILL_PREFECTURES = ("山口県", "広島県", "福岡県", "島根県", "岡山県", "愛媛県", "大分県", "鳥取県", "香川県", "佐賀県")
PREFIX_STEP = 4  # characters a partial grows by, roughly, between two partial captions
LOADS = 5
BUILDS = 3


def fill_entries(own: list[Entry], target: int) -> tuple[list[Entry], str]:
    """``own`` plus other words up to ``target`` entries, and where they came from."""
    surfaces = {e.surface for e in own}
    entries = list(own)
    from dictionary.towns import city_towns, postal_database

    try:
        database = postal_database()
    except CaptionerError:  # the towns extra is optional: fall back to generated names
        database = None
    used: list[str] = []
    if database is not None:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            for prefecture in FILL_PREFECTURES:
                if len(entries) >= target:
                    break
                used.append(prefecture)
                cities = [row[0] for row in connection.execute(
                    "select distinct city from postal_data where prefecture = ? order by code", (prefecture,)
                )]  # fmt: skip
                for city in cities:
                    found = city_towns(city, prefecture, database)
                    words = [(found.city, found.city_reading)] + [(t.surface, t.reading) for t in found.towns]
                    for surface, reading in words:
                        if reading and surface not in surfaces and len(entries) < target:
                            surfaces.add(surface)
                            entries.append(Entry(surface, reading, source="postal data"))
        finally:
            connection.close()
    source = f"postal data ({'、'.join(used)})" if used else "generated names"
    kana = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろ"
    index = 0
    while len(entries) < target:
        surface = f"地名{index}"
        if surface not in surfaces:
            reading = kana[index % 40] + kana[index // 40 % 40] + kana[index // 1600 % 40] + "ち"
            entries.append(Entry(surface, reading, source="generated"))
        index += 1
    return entries, source


def caption_texts(set_dir: Path) -> list[tuple[str, bool]]:
    """Each reference sentence and, before it, its growing prefixes (what partials look like),
    with whether the text is a partial's (it may end mid-word)."""
    texts = []
    for reference in load_references(set_dir):
        sentence = reference.text
        texts += [(sentence[:end], True) for end in range(PREFIX_STEP, len(sentence), PREFIX_STEP)]
        texts.append((sentence, False))
    return texts


def run_dictionary_bench(set_dir: Path, target: int, options: DictionaryOptions | None = None) -> dict[str, Any]:
    options = options or DictionaryOptions()
    own = load_word_file(set_dir / "dictionary.yaml") if (set_dir / "dictionary.yaml").is_file() else []
    entries, source = fill_entries(own, target)
    with tempfile.TemporaryDirectory() as folder:
        write_records(Path(folder) / "words.yaml", [entry_record(e) for e in entries])
        loads = []
        for _ in range(LOADS):
            started = time.perf_counter()
            result = load_folder(folder)
            loads.append(time.perf_counter() - started)
        if result.problems:
            raise ValueError(f"the generated dictionary has problems: {result.problems[0]}")
    builds = []
    for _ in range(BUILDS):
        started = time.perf_counter()
        corrector = Corrector(result.entries, options)
        builds.append(time.perf_counter() - started)
    texts = caption_texts(set_dir)
    corrector.correct(texts[0][0])  # the analyzer is loaded once per process, not per caption
    times, changed = [], []
    for text, partial in texts:
        started = time.perf_counter()
        corrected = corrector.correct(text, open_end=partial)
        times.append((time.perf_counter() - started) * 1000)
        if corrected.text != text:
            changed.append(f"{text} → {corrected.text}")
    load_s, build_s = statistics.median(loads), statistics.median(builds)
    return {
        "set": str(set_dir),
        "entries": len(result.entries),
        "source": source,
        "load_s": round(load_s, 3),
        "build_s": round(build_s, 3),
        "load_and_build_s": round(load_s + build_s, 3),
        "common_reading_keys": len(corrector.common_keys),
        "captions": len(texts),
        "references_changed": changed,  # the references are right: any change is a false alarm
        "correction_ms": {
            "p50": round(metrics.percentile(times, 50) or 0, 2),
            "p95": round(metrics.percentile(times, 95) or 0, 2),
            "max": round(max(times), 2),
        },
    }
