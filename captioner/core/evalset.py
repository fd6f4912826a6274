"""An evaluation set's references: utterance texts and where they are in ``session.wav``.

A set is shaped like ``shared/eval/dev``: ``session.wav`` with ``refs.json`` (a list of
``{"id", "text", "start", "end"}``, times in seconds, plus optional fields such as
``voice``), optionally ``nonspeech.wav``, ``dictionary.yaml`` and per-utterance WAVs listed
in ``utterances.tsv``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError


@dataclass(frozen=True)
class Reference:
    """One utterance of the set; ``extra`` keeps its other fields (voice, condition, ...)."""

    id: str
    text: str
    start: float
    end: float
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def condition(self) -> str | None:
        """``kokoro/clean``, ``ojt/snr20`` … when the reference names its voice family or SNR."""
        if "family" not in self.extra and "snr" not in self.extra:
            return None
        snr = self.extra.get("snr")
        label = "clean" if snr is None else f"snr{snr:g}" if isinstance(snr, (int, float)) else f"snr{snr}"
        return f"{self.extra.get('family', '?')}/{label}"

    @property
    def kind(self) -> str | None:
        """``counter`` or ``distractor`` (a sentence without any registered word), when given."""
        return self.extra.get("kind")


def load_references(set_dir: Path) -> list[Reference]:
    path = set_dir / "refs.json"
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        return [
            Reference(i["id"], i["text"], float(i["start"]), float(i["end"]),
                      {k: v for k, v in i.items() if k not in ("id", "text", "start", "end")})
            for i in items
        ]  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CaptionerError(f"{path}: not a readable reference list ({e})") from e
