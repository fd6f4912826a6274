"""The clerk's quick phrases, one JSON list in the data folder (edited on the admin page)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from web.conversation.errors import ConversationError, clean_input

log = logging.getLogger(__name__)

PHRASES_FILE = "quick-phrases.json"
DEFAULT_PHRASES = [
    "お待ちください。",
    "こちらにご記入ください。",
    "もう一度お願いします。",
    "少々お待ちください。確認します。",
    "こちらの書類をご覧ください。",
    "ありがとうございました。",
]


class Phrases:
    """The quick phrases in one file (the defaults while it does not exist)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> list[str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return list(DEFAULT_PHRASES)
        except (OSError, ValueError) as e:
            log.warning("%s: cannot read the quick phrases (%s); using the defaults", self.path, e)
            return list(DEFAULT_PHRASES)
        return [p for p in data if isinstance(p, str) and p.strip()] if isinstance(data, list) else list(DEFAULT_PHRASES)

    def save(self, phrases: Any) -> list[str]:
        from captioner.core.files import atomic_write

        if isinstance(phrases, str):
            phrases = phrases.splitlines()
        if not isinstance(phrases, list):
            raise ConversationError("定型文は一行に一つずつ書いてください")
        kept = []
        for number, phrase in enumerate(phrases, 1):
            if isinstance(phrase, str) and not phrase.strip():
                continue
            try:
                kept.append(clean_input(phrase, 200, f"{number} 行目の定型文"))
            except ConversationError as e:
                raise ConversationError(str(e)) from None
        if len(kept) > 50:
            raise ConversationError("定型文は 50 個までです")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, (json.dumps(kept, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
        except OSError as e:
            raise ConversationError(f"定型文を保存できません: {e.strerror or e}", status=500) from e
        return kept
