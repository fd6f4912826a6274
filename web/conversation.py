"""The conversation at the counter: the resident's replies and buttons, the clerk's corrections
and quick phrases, and the end of a conversation (clerk's 終了 or an idle time) that asks the
tablet for the satisfaction survey.

Everything the clerk or the resident says becomes a final :class:`CaptionEvent` handed to
``publish`` (in ``captioner run``: every caption sink after masking and translation, so the
caption window, the tablets and the conversation log all get it). A reply is
``source=RESIDENT`` with a fresh utterance id; a correction re-sends the final of an
existing utterance with ``update=UPDATE_CORRECTION``. State lives on the web server's event loop
(the hub calls :meth:`Conversation.on_event` there); ``publish`` is called from a worker
thread by the routes, because sinks may write files.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError
from captioner.core.events import RESIDENT, UPDATE_CORRECTION, CaptionEvent

log = logging.getLogger(__name__)

Publish = Callable[[CaptionEvent], None]
INJECTED_BASE = 1_000_000_000  # utterance ids of replies and phrases (the pipeline counts from 0)
MAX_REPLY = 500  # characters
PHRASES_FILE = "quick-phrases.json"
DEFAULT_PHRASES = [
    "お待ちください。",
    "こちらにご記入ください。",
    "もう一度お願いします。",
    "少々お待ちください。確認します。",
    "こちらの書類をご覧ください。",
    "ありがとうございました。",
]

# The tablet's buttons: what the clerk reads (Japanese), and the label in the tablet's language.
BUTTONS: dict[str, dict[str, str]] = {
    "again": {"ja": "もう一度お願いします", "label": "もう一度", "en": "Again, please", "vi": "Xin nhắc lại",
              "zh": "请再说一遍", "pt": "De novo, por favor", "ko": "다시 한번 말해 주세요", "es": "Otra vez, por favor"},
    "slower": {"ja": "ゆっくり話してください", "label": "ゆっくり", "en": "Slower, please", "vi": "Xin nói chậm hơn",
               "zh": "请说慢一点", "pt": "Mais devagar, por favor", "ko": "천천히 말해 주세요", "es": "Más despacio, por favor"},
    "unclear": {"ja": "わかりません", "label": "わかりません", "en": "I don't understand", "vi": "Tôi không hiểu",
                "zh": "我不明白", "pt": "Não entendi", "ko": "모르겠어요", "es": "No entiendo"},
    "yes": {"ja": "はい", "label": "はい", "en": "Yes", "vi": "Vâng", "zh": "是", "pt": "Sim", "ko": "네", "es": "Sí"},
    "no": {"ja": "いいえ", "label": "いいえ", "en": "No", "vi": "Không", "zh": "不是", "pt": "Não", "ko": "아니요", "es": "No"},
}  # fmt: skip


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


# ------------------------------------------------------------------------ reply translation


class ReplyTranslator:
    """Translates a resident's reply into Japanese with the installed offline packages.

    ``translate(text, language)`` → (Japanese or None, note or None). A language with no
    package (direct or through the pivot) gives the note once per language and no text.
    """

    def __init__(self, options, target: str = "ja") -> None:
        self.options = options
        self.target = target
        self._translators: dict[str, Any] = {}
        self._missing: dict[str, str] = {}
        self._lock = threading.Lock()

    def translate(self, text: str, language: str) -> tuple[str | None, str | None]:
        if language == self.target:
            return text, None
        translator = self._translator(language)
        if translator is None:
            return None, self._missing[language]
        from translate.engine import CaptionTranslator

        try:
            return CaptionTranslator({self.target: translator}).translate(text, self.target).text or None, None
        except Exception as e:  # a broken model must not lose the reply: it is shown untranslated
            log.exception("reply translation %s→%s failed", language, self.target)
            return None, f"翻訳できませんでした（{type(e).__name__}）"

    def _translator(self, language: str):
        from translate.packages import PackageError, PackageStore
        from translate.translators import build_translators, find_route

        with self._lock:
            if language in self._translators:
                return self._translators[language]
            if language in self._missing:
                return None
            try:
                route = find_route(PackageStore(self.options.package_dirs()), language, self.target, self.options.pivot)
            except PackageError as e:
                log.warning("replies in %s stay untranslated: %s", language, e)
                self._missing[language] = f"{language}→{self.target} の翻訳パッケージがないため、原文のまま表示しています"
                return None
            translator = build_translators({self.target: route}, beam_size=self.options.beam_size,
                                           cpu_threads=self.options.cpu_threads)[self.target]  # fmt: skip
            self._translators[language] = translator
            return translator


# ------------------------------------------------------------------------------ phrases


class Phrases:
    """The clerk's quick phrases, one JSON list in the data folder (edited on the admin page)."""

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


# ---------------------------------------------------------------------------- conversation


@dataclass
class Ended:
    conversation: str
    reason: str  # "clerk" or "idle"


class Conversation:
    """Replies, buttons, phrases, corrections and the end of each conversation (see the module doc)."""

    def __init__(
        self,
        hub,
        publish: Publish | None = None,
        *,
        idle_s: float = 600.0,
        survey: bool = True,
        translator: ReplyTranslator | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self._publish = publish or hub.sink
        self.idle_s = idle_s
        self.survey = survey
        self.translator = translator
        self.clock = clock
        self._ids = itertools.count(INJECTED_BASE)
        self._number = 0
        self.active = False
        self.last_activity = clock()
        self.last_end = 0.0  # stream clock of the newest caption (replies are placed after it)
        self.ended: list[Ended] = []
        self._timer: asyncio.TimerHandle | None = None
        hub.listeners.append(self.on_event)

    def publish(self, event: CaptionEvent) -> None:
        """Hand an event to every sink (never raises: a broken sink is logged, as in the pipeline)."""
        try:
            self._publish(event)
        except Exception:
            log.exception("publishing %s event %d failed", event.source, event.utterance_id)

    @property
    def id(self) -> str:
        """The current conversation's id: the hub's epoch (one per server run) and a number."""
        return f"{self.hub.epoch}-{self._number}"

    # -- on the loop ------------------------------------------------------------------------

    def on_event(self, event: CaptionEvent) -> None:
        """Hub listener: a caption or reply keeps the conversation going."""
        self.last_end = max(self.last_end, event.audio_end)
        if event.is_final and event.display_text.strip() and not event.is_update:
            if not self.active:
                self.active = True
                self._number += 1
            self.last_activity = self.clock()
            self._arm()

    def _arm(self) -> None:
        if self.idle_s <= 0 or self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(self.idle_s, self._check_idle)

    def _check_idle(self) -> None:
        self._timer = None
        if not self.active:
            return
        left = self.last_activity + self.idle_s - self.clock()
        if left > 0.05:
            self._timer = asyncio.get_running_loop().call_later(left, self._check_idle)
            return
        self.end("idle")

    def end(self, reason: str = "clerk") -> dict[str, Any]:
        """End the conversation: tablets show the survey (when on); the next caption starts a new one."""
        ended = Ended(self.id, reason)
        was_active = self.active
        self.active = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.ended.append(ended)
        del self.ended[:-100]
        message = {"t": "conv", "state": "ended", "conversation": ended.conversation, "reason": reason,
                   "survey": self.survey and (was_active or reason == "clerk")}  # fmt: skip
        self.hub.broadcast(message)
        log.info("conversation %s ended (%s)", ended.conversation, reason)
        return message

    def state(self) -> dict[str, Any]:
        return {"conversation": self.id, "active": self.active, "idle_s": self.idle_s, "survey": self.survey}

    # -- building events (any thread; the routes then publish them off the loop) ---------------

    def reply(self, text: Any, language: Any) -> CaptionEvent:
        """A typed reply: Japanese for the clerk (translated when possible), the original kept."""
        text = clean_input(text, MAX_REPLY, "返信")
        language = _language(language)
        details: dict[str, Any] = {"reply": True}
        shown, translations = text, {}
        if language != "ja":
            translations = {language: text}
            translated, note = self.translator.translate(text, language) if self.translator else (None, None)
            if translated:
                shown = translated
                details["translated_from"] = language
            else:
                details["note"] = note or "翻訳が設定されていないため、原文のまま表示しています"
        return self._event(shown, source=RESIDENT, language=language, translations=translations, details=details)

    def button(self, key: Any, language: Any) -> CaptionEvent:
        if key not in BUTTONS:
            raise ConversationError("そのボタンはありません")
        language = _language(language)
        words = BUTTONS[key]
        translations = {language: words[language]} if language != "ja" and language in words else {}
        return self._event(words["ja"], source=RESIDENT, language=language, translations=translations,
                           details={"button": key})  # fmt: skip

    def phrase(self, text: Any) -> CaptionEvent:
        """A quick phrase the clerk sends as a caption."""
        return self._event(clean_input(text, 200, "定型文"), source="clerk", language="ja", details={"phrase": True})

    def correction(self, utterance_id: Any, text: Any) -> CaptionEvent:
        """The final of a caption still on screen, again, with the clerk's text."""
        if not isinstance(utterance_id, int) or isinstance(utterance_id, bool):
            raise ConversationError("字幕の番号がありません")
        text = clean_input(text, MAX_REPLY, "訂正した字幕")
        shown = self.hub.state_of(utterance_id)
        if shown is None:
            raise ConversationError("この字幕はもう画面にありません", status=404)
        line = shown.line
        if not line.final:
            raise ConversationError("話し終わってから訂正してください（まだ認識中です）", status=409)
        return CaptionEvent(
            "final", utterance_id, text, line.start, line.end, 0.0, committed=text,
            details={"corrected": True}, source=line.source, language=line.language, update=UPDATE_CORRECTION,
        )  # fmt: skip

    def _event(self, text: str, *, source: str, language: str, translations=None, details=None) -> CaptionEvent:
        at = self.last_end
        return CaptionEvent(
            "final", next(self._ids), text, at, at, 0.0, committed=text, translations=dict(translations or {}),
            details=dict(details or {}), source=source, language=language,
        )  # fmt: skip


def _language(code: Any) -> str:
    from translate.options import LANGUAGE_CODE

    if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
        return "ja"
    return code
