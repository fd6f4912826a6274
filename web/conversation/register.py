"""A clerk's fix made to stick: the wrong words become an alias in the dictionary."""

from __future__ import annotations

from typing import Any

from web.admin import DictionaryAdmin, EditError
from web.conversation.errors import ConversationError, clean_input


def register_fix(words: DictionaryAdmin, wrong: Any, surface: Any, reading: Any = None) -> dict[str, Any]:
    """``wrong`` becomes an alias of the word ``surface`` (added, with ``reading`` or the
    analyzer's reading, when it is not in the dictionary yet)."""
    wrong = clean_input(wrong, 100, "誤った表記")
    surface = clean_input(surface, 100, "正しい表記")
    if wrong == surface:
        raise ConversationError("誤った表記と正しい表記が同じです")
    rows = [r for r in words.search(surface)["entries"] if r["surface"] == surface]
    try:
        if rows:
            row = rows[0]
            values = {"surface": surface, "reading": row["reading"], "aliases": list(dict.fromkeys([*row["aliases"], wrong])),
                      "note": row["note"], "priority": row["priority"], "translations": row["translations"]}  # fmt: skip
            try:
                result = words.update(surface, values)
            except EditError as e:
                if e.status != 404:  # a word from a CSV file: the alias goes to words.yaml
                    raise
                result = words.add({"surface": surface, "reading": row["reading"], "aliases": [wrong]})
            return {"status": "alias", "surface": surface, "alias": wrong, "result": result.get("status")}
        if not isinstance(reading, str) or not reading.strip():
            reading = _reading(surface)
        result = words.add({"surface": surface, "reading": reading.strip(), "aliases": [wrong]})
        return {"status": "added", "surface": surface, "alias": wrong, "reading": result["entry"]["reading"]}
    except EditError as e:
        raise ConversationError(f"辞書に登録できません: {e}", status=e.status) from e


def _reading(surface: str) -> str:
    """The analyzer's hiragana reading of a new word (its kana as they are)."""
    from dictionary.analyzer import shared_analyzer

    try:
        pieces = shared_analyzer().furigana(surface)
    except Exception as e:  # MeCab missing: the clerk types the reading
        raise ConversationError(f"読みを入力してください（自動の読みが使えません: {e}）") from e
    return "".join(reading or segment for segment, reading in pieces)
