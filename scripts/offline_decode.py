"""Measurement tooling (not product code). Decode each utterance file of a set whole (real Whisper base, the project's chain with
partials off, no dictionary biasing) and write a `captioner bench --output`-shaped JSON that
`captioner dict ablate` reads (transcript: id, ref, hyp, uncorrected). Usage:
offline_decode.py OUT_DIR SET_DIR..."""
import json, sys
from pathlib import Path

from captioner.app.config import Config
from captioner.app.sinks import FinalsCollector
from captioner.app.session import CaptionSession
from captioner.core.evalset import load_references
from captioner.engine.audio import FileSource
from captioner.engine.backends import create_recognizer
from captioner.engine.recognizer import AsrOptions

out_dir = Path(sys.argv[1]); out_dir.mkdir(parents=True, exist_ok=True)
recognizer = create_recognizer(AsrOptions())
for set_dir in map(Path, sys.argv[2:]):
    transcript = []
    for ref in load_references(set_dir):
        collector = FinalsCollector()
        with CaptionSession(Config(), recognizer, [collector], entries=[]) as session:
            session.run(FileSource(set_dir / f"{ref.id}.wav", pace=None), partials=False)
        text = "".join(e.text for e in collector.events if e.is_final)
        transcript.append({"id": ref.id, "ref": ref.text, "hyp": text, "uncorrected": text})
    (out_dir / f"{set_dir.name}.json").write_text(json.dumps({"set": str(set_dir), "transcript": transcript}, ensure_ascii=False))
    print(set_dir.name, len(transcript), flush=True)
