"""The conversation on the resident's phone: the finals of this conversation, masked, kept in
memory only, behind a one-time key.

At the end of a conversation (the clerk's 終了 or its own button) :meth:`Takeaway.issue` makes
a one-time key; the tablets and the caption window show it as a QR code. The first phone that
opens ``/t?k=KEY`` gets a cookie for this conversation and the key is spent (a second opening,
a wrong key: nothing). Everything expires after ``minutes`` or when the next conversation
starts, whichever comes first: the lines, the key and the phone's cookie are dropped from
memory, and nothing was ever written to disk. The lines are masked with the conversation log's
rules (:func:`captioner.convlog.masking.mask`); the clerk may leave a line out.

State lives on the web server's event loop (a hub listener), like the conversation's.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from captioner.convlog.masking import mask
from captioner.core.events import RESIDENT, CaptionEvent

log = logging.getLogger(__name__)

Announce = Callable[[str | None], None]  # the phone page's URL with its key (None: gone), e.g. the caption window's QR


@dataclass
class TakeawayLine:
    """One final as the phone shows it (masked)."""

    id: int
    text: str
    translations: dict[str, str]
    source: str
    language: str
    marks: dict[str, Any] = field(default_factory=dict)  # facts over ``text`` and the picture shown
    ruby: list[tuple[int, int, str]] = field(default_factory=list)
    removed: bool = False  # the clerk left it out


class Takeaway:
    """This conversation's lines, the one-time key and the phone's cookie (see the module doc).

    ``marker(text)`` gives a final's facts and picture (:func:`web.marks.marker`), ``ruby`` the
    furigana of a text (the hub's); ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        hub,
        conversation,
        *,
        minutes: float = 30.0,
        marker: Callable[[str], dict[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.conversation = conversation
        self.seconds = minutes * 60
        self.marker = marker
        self.clock = clock
        self.announce: list[Announce] = []
        self.lines: dict[int, TakeawayLine] = {}
        self.shown: dict[str, dict[str, str]] = {}  # pictures the clerk showed on demand, by word
        self.conversation_id: str | None = None
        self.key: str | None = None  # unused one-time key
        self.cookie: str | None = None  # the phone that spent it
        self.expires_at: float | None = None
        self._context = ""  # the previous final (a date of birth is told by it)
        self._timer: asyncio.TimerHandle | None = None
        if self.seconds > 0:
            hub.listeners.append(self.on_event)

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    # -- on the loop ------------------------------------------------------------------------

    def on_event(self, event: CaptionEvent) -> None:
        """Hub listener (after the conversation's): keep this conversation's finals."""
        if not event.is_final:
            return
        if not event.is_update and event.display_text.strip() and self.conversation_id != self.conversation.id:
            self.expire("the next conversation started")
            self.conversation_id = self.conversation.id
        shown = self.hub.state_of(event.utterance_id)
        if shown is None or self.conversation_id is None:
            return
        line = shown.line
        old = self.lines.get(line.id)
        text = line.text if event.source == RESIDENT else mask(line.text, self._context).text
        if not event.is_update:
            self._context = line.text
        taken = TakeawayLine(
            line.id, text, {k: mask(v).text for k, v in line.translations.items()}, line.source, line.language,
            removed=old.removed if old is not None else False,
        )  # fmt: skip
        taken.marks = dict(self.marker(text)) if self.marker is not None and text else {}
        if "pic" in shown.marks:  # the picture the screens showed (a word is no personal number)
            taken.marks["pic"] = shown.marks["pic"]
        taken.ruby = self.hub.ruby(text, line.readings) if self.hub.ruby and text else []
        if text or taken.translations:
            self.lines[line.id] = taken

    def picture_shown(self, message: dict[str, str]) -> None:
        """A picture the clerk showed on demand belongs to this conversation's pictures."""
        if self.conversation_id is not None and self.conversation_id == self.conversation.id:
            self.shown.setdefault(message["word"], message)

    def issue(self, base: str) -> dict[str, Any] | None:
        """A new one-time key for this conversation, its URL on the server at ``base``
        (None when there is nothing to take away)."""
        self._check()
        if not self.enabled or not any(not line.removed for line in self.lines.values()):
            return None
        self.key, self.cookie = secrets.token_urlsafe(18), None
        self.expires_at = self.clock() + self.seconds
        self._arm()
        url = f"{base.split('?')[0].rstrip('/')}/t?k={self.key}"
        for announce in self.announce:
            _call(announce, url)
        return {"url": url, "expires_s": round(self.seconds)}

    def open(self, key: str | None) -> str | None:
        """Spend the one-time key: the phone's cookie, or None (wrong, used or expired key)."""
        self._check()
        if not key or self.key is None or not hmac.compare_digest(key.encode(), self.key.encode()):
            return None
        self.key, self.cookie = None, secrets.token_urlsafe(24)
        for announce in self.announce:  # the QR code has done its work
            _call(announce, None)
        return self.cookie

    def view(self, cookie: str | None) -> dict[str, Any] | None:
        """What the phone with ``cookie`` may see (None: not that phone, or expired)."""
        self._check()
        if not cookie or self.cookie is None or not hmac.compare_digest(cookie.encode(), self.cookie.encode()):
            return None
        shown = [line for line in self.lines.values() if not line.removed]
        return {"lines": shown, "pictures": dict(self.shown), "language": self.language(), "expires_in": max(0, round((self.expires_at or 0) - self.clock()))}

    def remove(self, utterance_id: Any, removed: bool = True) -> bool:
        """The clerk leaves a line out (or puts it back); False when there is no such line."""
        line = self.lines.get(utterance_id) if isinstance(utterance_id, int) else None
        if line is None:
            return False
        line.removed = bool(removed)
        return True

    def clerk_state(self) -> dict[str, Any]:
        self._check()
        return {
            "enabled": self.enabled,
            "lines": [{"id": x.id, "text": x.text, "removed": x.removed, "src": x.source} for x in self.lines.values()],
            "issued": self.key is not None or self.cookie is not None,
            "opened": self.cookie is not None,
            "expires_in": max(0, round(self.expires_at - self.clock())) if self.expires_at is not None else None,
        }

    def language(self) -> str:
        """The resident's language: of their last reply or button, else the one translation shown."""
        for line in reversed(list(self.lines.values())):
            if line.source == RESIDENT and line.language != "ja":
                return line.language
        channels = {code for line in self.lines.values() if line.source != RESIDENT for code in line.translations}
        return channels.pop() if len(channels) == 1 else "ja"

    def expire(self, why: str = "time is up") -> None:
        """Forget everything of this conversation (lines, key, cookie)."""
        if self.lines or self.key or self.cookie:
            log.info("takeaway of conversation %s forgotten (%s)", self.conversation_id, why)
        had_key = self.key is not None
        self.lines, self.shown, self.key, self.cookie, self.expires_at = {}, {}, None, None, None
        self._context = ""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if had_key:
            for announce in self.announce:
                _call(announce, None)

    def _check(self) -> None:
        if self.expires_at is not None and self.clock() >= self.expires_at:
            self.expire()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(self.seconds + 0.05, self._check)


def _call(announce: Announce, value: str | None) -> None:
    try:
        announce(value)
    except Exception:  # a display's trouble never stops the web server
        log.exception("announcing the phone page failed")
