"""The conversation at the counter: the resident's replies and buttons, the clerk's corrections
and quick phrases, and the end of a conversation (clerk's 終了 or an idle time) that asks the
tablet for the satisfaction survey.

Everything the clerk or the resident says becomes a final :class:`CaptionEvent` handed to
``publish`` (in ``captioner run``: every caption sink after masking and translation, so the
caption window, the tablets and the conversation log all get it). A reply is
``source=RESIDENT`` with the next of the session's utterance ids (the counter its pipeline
numbers utterances with, :class:`captioner.core.events.UtteranceIds`); a correction re-sends the final of an
existing utterance with ``update=UPDATE_CORRECTION``. State lives on the web server's event loop
(the hub calls :meth:`Conversation.on_event` there); ``publish`` is called from a worker
thread by the routes, because sinks may write files.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from captioner.core.events import RESIDENT, UPDATE_CORRECTION, CaptionEvent, UtteranceIds
from web.conversation.errors import ConversationError, clean_input

log = logging.getLogger(__name__)

Publish = Callable[[CaptionEvent], None]
MAX_REPLY = 500  # characters

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


class ReplyTranslator(Protocol):
    """``translate(text, language)`` → (Japanese or None, note or None): the session's
    (``translate.replies.ReplyTranslator``, owned by its translation stage)."""

    def translate(self, text: str, language: str) -> tuple[str | None, str | None]: ...


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
        ids: UtteranceIds | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self._publish = publish or hub.sink
        self.idle_s = idle_s
        self.survey = survey
        self.translator = translator
        self.clock = clock
        self.ids = ids if ids is not None else UtteranceIds()  # the session's: shared with its pipeline
        self._number = 0
        self.active = False
        self.last_activity = clock()
        self.last_end = 0.0  # stream clock of the newest caption (replies are placed after it)
        self.ended: list[Ended] = []
        self._timer: asyncio.TimerHandle | None = None
        self.on_end: list[Callable[[Ended], None]] = []  # called on the loop after the end message (web.tablets)
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
        self.ids.seen(event.utterance_id)
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
        """End the conversation: tablets show the survey (when on), viewers that connect from now
        on get none of its captions; the next caption starts a new one."""
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
        self.hub.seal()  # the next resident's tablet gets nothing of this conversation
        for listener in self.on_end:
            listener(ended)
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
        if not isinstance(key, str) or key not in BUTTONS:
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
        """The final of a clerk's caption still on screen, again, with the clerk's text."""
        if not isinstance(utterance_id, int) or isinstance(utterance_id, bool):
            raise ConversationError("字幕の番号がありません")
        text = clean_input(text, MAX_REPLY, "訂正した字幕")
        shown = self.hub.state_of(utterance_id)
        if shown is None:
            raise ConversationError("この字幕はもう画面にありません", status=404)
        line = shown.line
        if not line.final:
            raise ConversationError("話し終わってから訂正してください（まだ認識中です）", status=409)
        if line.source == RESIDENT:  # the resident's own words stay as they were said (the log keeps them)
            raise ConversationError("住民の返信やボタンは訂正できません", status=409)
        return CaptionEvent(
            "final", utterance_id, text, line.start, line.end, 0.0, committed=text,
            details={"corrected": True}, source=line.source, language=line.language, update=UPDATE_CORRECTION,
        )  # fmt: skip

    def _event(self, text: str, *, source: str, language: str, translations=None, details=None) -> CaptionEvent:
        at = self.last_end
        return CaptionEvent(
            "final", next(self.ids), text, at, at, 0.0, committed=text, translations=dict(translations or {}),
            details=dict(details or {}), source=source, language=language,
        )  # fmt: skip


def _language(code: Any) -> str:
    from translate.options import LANGUAGE_CODE

    if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
        return "ja"
    return code
