"""A final's facts and picture as the hub sends them to the tablets and the clerk's page.

``facts``: ``[[start, end, kind], ...]`` over the caption text (viewer.js draws them bold in a
frame); ``pic``: ``{"word", "src"}`` for an image (served by ``web.routes.pictures``) or
``{"word", "card"}`` for a text card.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from display.highlights import Highlights


def picture_message(word: str, value: str, is_card: bool) -> dict[str, str]:
    return {"word": word, "card": value} if is_card else {"word": word, "src": f"/pictures/{quote(value)}"}


def marker(highlights: Highlights) -> Callable[[str], dict[str, Any]]:
    """The hub's ``marker``: a final's text → the keys its message gains."""

    def marks(text: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        facts = highlights.facts(text)
        if facts:
            out["facts"] = [[f.start, f.end, f.kind] for f in facts]
        picture = highlights.picture(text)
        if picture is not None:
            out["pic"] = picture_message(picture.word, picture.value, picture.is_card)
        return out

    return marks
