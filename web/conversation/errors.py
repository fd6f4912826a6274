"""What the conversation refuses, and typed text made into one safe line."""

from __future__ import annotations

from typing import Any

from captioner.core.errors import CaptionerError


class ConversationError(CaptionerError):
    """A request the page must show (in Japanese); ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def clean_input(text: Any, limit: int, what: str) -> str:
    """Typed text as one trimmed line: control characters become spaces (it is never HTML)."""
    if not isinstance(text, str):
        raise ConversationError(f"{what}を文字で送ってください")
    text = "".join(" " if (c < " " or c == "\x7f") else c for c in text).strip()
    if not text:
        raise ConversationError(f"{what}が空です")
    if len(text) > limit:
        raise ConversationError(f"{what}が長すぎます（{limit} 文字まで）")
    return text
