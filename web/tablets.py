"""The tablets and phones that watch this counter: who may see the current conversation, and
what the clerk sees and can drop.

Every viewer the gate lets in becomes a :class:`Tablet` with a server-chosen id (shown to the
clerk, stored with its survey answer) and a token it keeps instead of the PIN or key it came
with. With a viewer PIN there are two kinds:

- a **counter** tablet came with the PIN or the setup key (the URL printed at start, derived
  from the PIN): staff set it up, so it stays across conversations and restarts (its token is
  signed with the setup key) until the clerk drops it or the PIN changes;
- a **guest** (a resident's phone) came with the QR code's **conversation key**. That key
  rotates when the conversation ends (終了 or the idle time); the guest then gets the end
  message (and may answer that conversation's survey), its WebSocket is closed, and its token
  is no longer let in: yesterday's QR code and a phone taken home get nothing of the next
  resident's conversation.

Without a PIN anyone on the LAN may watch (``open`` tablets); the clerk can still drop one,
but it may come back. State lives on the server's event loop; the ids of the dropped counter
tablets are also kept in the data folder (:data:`DROPPED_FILE`), so a dropped tablet stays out
after a restart, until the PIN changes (which invalidates every counter tablet anyway).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from captioner.core.files import atomic_write
from web.hub import CaptionHub

log = logging.getLogger(__name__)

COUNTER, GUEST, OPEN = "counter", "guest", "open"
MAX_TABLETS = 1000  # records kept (a counter has one or two tablets and a few phones; bench-web opens hundreds)
ENDED = 4410  # WebSocket close code: the conversation this phone was let in for ended
DROPPED = 4408  # WebSocket close code: the clerk dropped this tablet
DROPPED_FILE = "dropped-tablets.json"  # in the data folder: {"setup": <tag of the setup key>, "dropped": [ids]}


@dataclass
class Tablet:
    """One viewer: its id, the token it reconnects and posts with, and its open WebSockets."""

    id: str
    token: str
    kind: str
    address: str
    generation: int  # the conversation (counted from this server's start) a guest was let in for
    since: float = field(default_factory=time.time)
    answer_for: str = ""  # a guest whose conversation ended: that conversation's id (its survey)
    queues: set = field(default_factory=set)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "address": self.address, "since": round(self.since),
                "connected": len(self.queues)}  # fmt: skip


class Tablets:
    """The tablets of this server and the current conversation key (see the module doc)."""

    def __init__(self, hub: CaptionHub, signing_key: str = "", dropped_file: Path | None = None) -> None:
        self.hub = hub
        self.signing_key = signing_key.encode()  # the setup key (from the PIN); "" = no PIN
        self.locked = bool(signing_key)
        self.generation = 0
        self.key = secrets.token_urlsafe(18) if self.locked else ""  # the QR code's, for this conversation
        self._by_token: dict[str, Tablet] = {}
        self.dropped_file = dropped_file if self.locked else None
        self._dropped: set[str] = self._load_dropped()  # counter tablets the clerk dropped (their signed tokens stay refused)

    def add(self, kind: str, address: str) -> Tablet | None:
        """A new tablet (None when :data:`MAX_TABLETS` are known and none can be forgotten)."""
        if len(self._by_token) >= MAX_TABLETS:
            self._forget(lambda t: not t.queues and t.kind != COUNTER)
        if len(self._by_token) >= MAX_TABLETS:
            return None
        while (tablet_id := secrets.token_hex(3)) in self._dropped:  # a dropped counter tablet's id stays refused
            pass
        token = self._signed(tablet_id) if kind == COUNTER else secrets.token_urlsafe(18)
        tablet = self._by_token[token] = Tablet(tablet_id, token, kind, address, self.generation)
        return tablet

    def _signed(self, tablet_id: str) -> str:
        """A counter tablet's token: its id and a MAC with the setup key, valid after a restart."""
        mac = hmac.new(self.signing_key, b"counter-tablet:" + tablet_id.encode(), hashlib.sha256).digest()
        return f"{tablet_id}.{base64.urlsafe_b64encode(mac[:18]).decode('ascii')}"

    def _restored(self, token: str) -> Tablet | None:
        """A counter tablet from before a restart, by its signed token (None when it is not one)."""
        tablet_id = token.split(".")[0]
        if not self.locked or tablet_id in self._dropped or not hmac.compare_digest(token.encode(), self._signed(tablet_id).encode()):
            return None
        if len(self._by_token) >= MAX_TABLETS:
            return None
        tablet = self._by_token[token] = Tablet(tablet_id, token, COUNTER, "", self.generation)
        return tablet

    def of_token(self, token: str | None, *, ended_guest: bool = False) -> Tablet | None:
        """The tablet holding ``token`` while it may watch; ``ended_guest`` also finds a guest
        whose conversation ended (it may still answer that survey)."""
        tablet = self._by_token.get(token or "") or (self._restored(token) if token and "." in token else None)
        if tablet is None or tablet.kind != GUEST or tablet.generation == self.generation:
            return tablet
        return tablet if ended_guest and tablet.answer_for else None

    def may_answer(self, tablet: Tablet, conversation: str) -> bool:
        """A guest answers only the survey of the conversation it watched."""
        return tablet.kind != GUEST or tablet.answer_for == conversation

    def conversation_ended(self, conversation: str) -> None:
        """Rotate the key; close the guests' WebSockets (after the end message already queued)."""
        self._forget(lambda t: t.kind == GUEST and t.generation < self.generation)  # the conversation before
        self._forget(lambda t: t.kind == OPEN and not t.queues)
        for tablet in self._by_token.values():
            if tablet.kind == GUEST:
                tablet.answer_for = conversation
                self._close(tablet, ENDED)
        self.generation += 1
        if self.locked:
            self.key = secrets.token_urlsafe(18)

    def drop(self, tablet_id: str) -> bool:
        """The clerk drops a tablet: its WebSockets are closed and its token no longer let in."""
        for token, tablet in list(self._by_token.items()):
            if tablet.id == tablet_id:
                del self._by_token[token]
                if tablet.kind == COUNTER:
                    self._dropped.add(tablet_id)
                    self._save_dropped()
                self._close(tablet, DROPPED)
                return True
        return False

    def _setup_tag(self) -> str:
        """Which setup key (so which PIN) the dropped list belongs to, without revealing the key."""
        return hmac.new(self.signing_key, b"dropped-tablets", hashlib.sha256).hexdigest()[:32]

    def _load_dropped(self) -> set[str]:
        """The dropped counter tablets kept for this setup key (a list for another PIN is void)."""
        if self.dropped_file is None:
            return set()
        try:
            kept = json.loads(self.dropped_file.read_text(encoding="utf-8"))
            if not isinstance(kept, dict) or not isinstance(kept.get("dropped"), list) or not all(isinstance(i, str) for i in kept["dropped"]):
                raise ValueError("not an object with a list of tablet ids")
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            log.warning("%s: cannot read the dropped counter tablets (%s); starting without them, so a tablet the clerk "
                        "dropped may come back: drop it again or change web.viewer_pin", self.dropped_file, e)  # fmt: skip
            return set()
        return set(kept["dropped"]) if kept.get("setup") == self._setup_tag() else set()

    def _save_dropped(self) -> None:
        if self.dropped_file is None:
            return
        data = json.dumps({"setup": self._setup_tag(), "dropped": sorted(self._dropped)}) + "\n"
        try:
            atomic_write(self.dropped_file, data, mode=0o600)
        except OSError as e:
            log.warning("%s: cannot keep the dropped counter tablets (%s); they stay out until captioner run restarts",
                        self.dropped_file, e)  # fmt: skip

    def listing(self) -> list[dict[str, Any]]:
        """The tablets that may watch now (the clerk's list), oldest first."""
        return [t.describe() for t in sorted(self._by_token.values(), key=lambda t: t.since) if self.of_token(t.token)]

    def _close(self, tablet: Tablet, code: int) -> None:
        for queue in list(tablet.queues):
            self.hub.disconnect(queue, code)
        tablet.queues.clear()

    def _forget(self, which) -> None:
        for token in [token for token, tablet in self._by_token.items() if which(tablet)]:
            del self._by_token[token]
