"""``captioner corpus recordings LIST OUT_DIR``: an evaluation set from recordings and what was said.

``LIST`` is a text file, one utterance a line: an audio file (any format PyAV reads; relative to
the list's folder), a tab, and exactly what was said. Blank lines and lines starting with ``#``
are skipped. The set (:mod:`captioner.core.evalset`) gets each recording as 16 kHz
``ID.wav`` (the file's stem), ``session.wav`` (the recordings one after the other with
:data:`PAUSE_S` of silence around each), ``refs.json`` and ``utterances.tsv``; ``--dictionary``
copies a dictionary in as ``dictionary.yaml``. ``captioner bench`` and ``captioner model
compare`` then read it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from captioner.app.bench.corpus.effects import RATE, write_wav
from captioner.core.errors import AudioFileError, CaptionerError
from captioner.core.files import replacing
from captioner.engine.audio import FileSource

PAUSE_S = 2.0


def read_listing(listing: Path) -> list[tuple[str, Path, str, int]]:
    """(id, audio file, text, line number) of each line; a clear error with the line for anything wrong."""
    try:
        lines = listing.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise CaptionerError(f"{listing}: cannot read the list ({e})") from e
    items: list[tuple[str, Path, str, int]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{listing}:{number}"
        name, tab, text = line.partition("\t")
        if not tab or not name.strip() or not text.strip():
            raise CaptionerError(f"{where}: expected an audio file, a tab and what was said")
        path = (listing.parent / name.strip()).resolve()
        if not path.is_file():
            raise CaptionerError(f"{where}: no audio file {path}")
        uid = path.stem
        if uid in seen:
            raise CaptionerError(f"{where}: {uid!r} again (line {seen[uid]}); each recording needs its own file name")
        seen[uid] = number
        items.append((uid, path, text.strip(), number))
    if not items:
        raise CaptionerError(f"{listing}: no recordings listed (a line: FILE<TAB>what was said)")
    return items


def set_from_recordings(listing: Path, out_dir: Path, dictionary: Path | None = None) -> dict[str, Any]:
    """Write the evaluation set; returns what was written."""
    items = read_listing(listing)
    pause = np.zeros(int(PAUSE_S * RATE), np.float32)
    parts, refs, rows = [pause], [], []
    at = PAUSE_S
    out_dir.mkdir(parents=True, exist_ok=True)
    for uid, path, text, number in items:
        try:
            audio = np.concatenate(list(FileSource(path, pace=None).blocks()))
        except AudioFileError as e:
            raise CaptionerError(f"{listing}:{number}: {e}") from e
        write_wav(out_dir / f"{uid}.wav", audio)
        seconds = len(audio) / RATE
        refs.append({"id": uid, "text": text, "start": round(at, 3), "end": round(at + seconds, 3), "source": str(path)})
        rows.append(f"{uid}\t{text}")
        to_ms = np.zeros(-len(audio) % (RATE // 1000), np.float32)  # the next recording starts on a whole millisecond
        parts += [audio, to_ms, pause]
        at += (len(audio) + len(to_ms)) / RATE + PAUSE_S
    write_wav(out_dir / "session.wav", np.concatenate(parts))
    with replacing(out_dir / "refs.json") as tmp:
        tmp.write_text(json.dumps(refs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with replacing(out_dir / "utterances.tsv") as tmp:
        tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    if dictionary is not None:
        if not dictionary.is_file():
            raise CaptionerError(f"--dictionary: no file {dictionary}")
        shutil.copyfile(dictionary, out_dir / "dictionary.yaml")
    return {"set": str(out_dir), "utterances": len(refs), "speech_s": round(sum(r["end"] - r["start"] for r in refs), 1)}
