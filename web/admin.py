"""The admin side: password hashes, login throttling, sessions with CSRF tokens, and the
dictionary edits the admin page makes (through ``dictionary.store``: atomic writes).

Nothing here knows about HTTP; ``web.server`` maps it onto routes.
"""

from __future__ import annotations

import base64
import json
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError
from captioner.core.files import atomic_write
from captioner.core.text import writable
from dictionary.editing import EditRefused, WordFolder

SCRYPT = {"n": 2**17, "r": 8, "p": 1}  # OWASP's recommendation; about 128 MiB per hash
SCRYPT_MAXMEM = 512 * 1024 * 1024  # the largest a stored hash may ask for (N=2^18, r=8 needs 256 MiB)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # the login page refuses longer ones, so none may be set
COMMON_PASSWORDS = frozenset({
    "password", "password1", "passw0rd", "12345678", "123456789", "1234567890", "87654321", "11111111",
    "00000000", "qwertyui", "qwerty123", "iloveyou", "admin123", "administrator", "abc12345", "abcd1234",
})  # the first guesses of anyone who tries
PRIORITY_LIMIT = 1_000_000
PRIORITY_TEXT = re.compile(r"[+-]?[0-9]{1,7}")


# ---------------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64): what ``web.admin_password_hash`` stores."""
    if len(password) < MIN_PASSWORD:
        raise CaptionerError(f"the admin password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise CaptionerError(f"the admin password must be at most {MAX_PASSWORD} characters (the login page takes no more)")
    if password.lower() in COMMON_PASSWORDS:
        raise CaptionerError("that admin password is among the first anyone guesses; choose another")
    if not writable(password):
        raise CaptionerError("the admin password has a character that cannot be encoded; type it again")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **SCRYPT, dklen=32, maxmem=SCRYPT_MAXMEM)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash, with the hash's own scrypt parameters (so
    hashes written with an older, smaller N keep working)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not all(x.isascii() and x.isdigit() and len(x) <= 8 for x in (n, r, p)):
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=SCRYPT_MAXMEM,
        )
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def load_secret(path: Path) -> bytes:
    """The per-install key that signs session cookies (created on first use, mode 0600)."""
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    atomic_write(path, secret, mode=0o600)
    return secret


def set_password_in_config(path: Path, password_hash: str) -> None:
    """Write ``web.admin_password_hash`` into a YAML config file, keeping everything else."""
    set_web_values(path, {"admin_password_hash": password_hash})


def set_web_values(path: Path, values: dict[str, str]) -> None:
    """Write keys of the ``web:`` section into a YAML config file, keeping everything else."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for key, text in values.items():
        value = f"  {key}: {json.dumps(text, ensure_ascii=False)}"  # a JSON string is a YAML string
        web = next((i for i, line in enumerate(lines) if line.rstrip() == "web:"), None)
        if web is None:
            lines += ["", "web:", value] if lines else ["web:", value]
            continue
        end = web + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in " \t#"):
            end += 1
        found = [i for i in range(web + 1, end) if lines[i].strip().startswith(f"{key}:")]
        if found:
            lines[found[0]] = value
        else:
            lines.insert(web + 1, value)
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))


# ----------------------------------------------------------------------------- throttle


class Throttle:
    """Exponential backoff per client after failed attempts (logins, viewer PINs).

    ``free`` failures are allowed at once; after that each further failure doubles the wait
    (1 s, 2 s, 4 s ... up to ``max_wait``). A success clears the client's record; with
    ``forget_after`` a record also lapses that many seconds after its wait ended.

    Servers call :meth:`attempt` *before* checking a secret: it refuses a client that must
    wait, and otherwise counts the attempt as a failure at once (a success then clears it),
    so simultaneous guesses cannot all slip through before the first failure is recorded.
    """

    def __init__(
        self, free: int = 3, max_wait: float = 300.0, clock: Callable[[], float] = time.monotonic,
        forget_after: float | None = None,
    ) -> None:  # fmt: skip
        self.free = free
        self.max_wait = max_wait
        self.clock = clock
        self.forget_after = forget_after
        self._failures: dict[str, tuple[int, float]] = {}  # client → (failures, not before)
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds the client must wait before its next attempt (0 = may try now)."""
        with self._lock:
            _, until = self._failures.get(client, (0, 0.0))
            return max(0.0, until - self.clock())

    def attempt(self, client: str) -> float:
        """Atomically: the seconds to wait (> 0: refused, nothing recorded), or 0 after
        recording this attempt as a failure (call :meth:`succeeded` when it was right)."""
        with self._lock:
            _, until = self._failures.get(client, (0, 0.0))
            wait = until - self.clock()
            if wait > 0:
                return wait
            self._record(client)
            return 0.0

    def failed(self, client: str) -> None:
        with self._lock:
            self._record(client)

    def _record(self, client: str) -> None:  # with self._lock held
        count, until = self._failures.pop(client, (0, 0.0))
        if self.forget_after is not None and self.clock() - until > self.forget_after:
            count = 0
        count += 1
        delay = 0.0 if count <= self.free else min(self.max_wait, 2.0 ** (count - self.free - 1))
        self._failures[client] = (count, self.clock() + delay)  # re-inserted: newest last
        if len(self._failures) > 10_000:  # bounded memory under a flood of addresses
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


# ----------------------------------------------------------------------------- sessions


@dataclass
class Session:
    id: str
    csrf: str
    expires: float


class Sessions:
    """Server-side admin sessions; the cookie carries the id signed with the install secret."""

    def __init__(self, secret: bytes, minutes: int = 480, clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.lifetime = minutes * 60
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self) -> tuple[Session, str]:
        """A new session and its cookie value."""
        session = Session(secrets.token_urlsafe(24), secrets.token_urlsafe(24), self.clock() + self.lifetime)
        with self._lock:
            now = self.clock()
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires > now}
            self._sessions[session.id] = session
        return session, f"{session.id}.{self._sign(session.id)}"

    def get(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        sid, _, signature = cookie.partition(".")
        if not hmac.compare_digest(signature, self._sign(sid)):
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is None or session.expires <= self.clock():
                self._sessions.pop(sid, None)
                return None
            return session

    def end(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)

    def _sign(self, sid: str) -> str:
        mac = hmac.new(self.secret, f"session:{sid}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


# --------------------------------------------------------------------------- dictionary


class EditError(CaptionerError):
    """An edit the admin must fix (shown on the page); ``problems`` lists file:line messages."""

    def __init__(self, message: str, problems: list[str] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.problems = problems or []
        self.status = status


FORM_FIELDS = ("surface", "reading", "aliases", "note", "priority", "picture")


class DictionaryAdmin:
    """The admin page's dictionary actions: JSON in, JSON out, over :mod:`dictionary.editing`.

    ``on_change`` is called after each write (the running captioner reloads its words; its
    folder watcher would also notice within ``dictionary.reload_seconds``). ``unwritable(word)``
    gives the characters the speech model cannot write: a word with any is saved with a warning.
    """

    def __init__(
        self, folder: Path, on_change: Callable[[], None] | None = None, unwritable: Callable[[str], str] | None = None
    ) -> None:
        self.folder = Path(folder)
        self.words = WordFolder(self.folder)
        self.on_change = on_change
        self.unwritable = unwritable

    def search(self, query: str = "", limit: int = 500) -> dict[str, Any]:
        entries, result = self.words.search(query)
        return {
            "total": len(result.entries),
            "matched": len(entries),
            "entries": [self._row(e) for e in entries[:limit]],
            "problems": [self._relative(str(p)) for p in result.problems[:50]],
        }

    def add(self, values: dict[str, Any]) -> dict[str, Any]:
        entry = self._entry(values)
        status, changes, _ = self._edit(self.words.add, entry)
        self._changed()
        return {"status": status, "changes": changes, "entry": self._row(entry), "warnings": self._warnings(entry)}

    def update(self, surface: str, values: dict[str, Any]) -> dict[str, Any]:
        """Replace the word ``surface`` (in the YAML file that has it) with ``values``."""
        entry = self._entry(values)
        try:
            self._edit(self.words.replace, surface, entry)
        except EditError as e:
            if e.status == 404:
                raise EditError(f"{surface} は辞書の YAML ファイルにありません（CSV ファイルの単語は CSV で編集してください）", status=404) from e
            if e.status == 400 and not e.problems:
                raise EditError(f"{entry.surface} は既に登録されています") from e
            raise
        self._changed()
        return {"status": "updated", "entry": self._row(entry), "warnings": self._warnings(entry)}

    def delete(self, surface: str) -> dict[str, Any]:
        removed, _ = self._edit(self.words.remove, surface)
        if not removed:
            raise EditError(f"{surface} は辞書の YAML ファイルにありません", status=404)
        self._changed()
        return {"status": "deleted", "files": [path.name for path in removed]}

    def import_csv(self, data: bytes, name: str = "upload.csv") -> dict[str, Any]:
        """Import a CSV (the rules of :mod:`dictionary.editing`, as ``captioner dict import``)."""
        shown = Path(name.replace("\\", "/")).name or "upload.csv"
        with tempfile.TemporaryDirectory(prefix="captioner-import-") as temporary:
            path = Path(temporary) / "upload.csv"
            path.write_bytes(data)
            try:
                outcome = self._edit(self.words.import_csv, path, shown)
            except EditError as e:
                raise EditError(f"{shown}: 問題があるため何も取り込んでいません", e.problems, e.status) from e
        self._changed()
        return outcome.counts()

    def export_csv(self) -> bytes:
        with tempfile.TemporaryDirectory(prefix="captioner-export-") as temporary:
            path = Path(temporary) / "words.csv"
            self.words.export_csv(path)
            return path.read_bytes()

    # -- internals ---------------------------------------------------------------------

    def _entry(self, values: dict[str, Any]):
        from dictionary.csvio import ALIAS_SEPARATORS
        from dictionary.fields import LANGUAGE, build_entry

        if not isinstance(values, dict):
            raise EditError("JSON オブジェクトを送ってください")
        fields: dict[str, tuple[Any, int]] = {}
        for key, value in values.items():
            if not isinstance(key, str) or (key not in FORM_FIELDS and key != "translations"):
                raise EditError(f"unknown field {key!r}")
        for key in ("surface", "reading", "note", "picture"):
            if isinstance(values.get(key), str) and len(values[key]) > 200:
                raise EditError(f"{key} is too long (200 characters at most)")
            if values.get(key) not in (None, ""):
                fields[key] = (values[key], 0)
        aliases = values.get("aliases")
        if isinstance(aliases, str):
            aliases = [a.strip() for a in ALIAS_SEPARATORS.split(aliases) if a.strip()]
        if aliases:
            fields["aliases"] = (aliases, 0)
        priority = values.get("priority")
        if isinstance(priority, str):
            priority = priority.strip()
            if priority and not PRIORITY_TEXT.fullmatch(priority):
                raise EditError(f"priority must be a whole number from -{PRIORITY_LIMIT:,} to {PRIORITY_LIMIT:,} (digits 0-9)")
            priority = int(priority) if priority else None
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > PRIORITY_LIMIT):
            raise EditError(f"priority must be a whole number from -{PRIORITY_LIMIT:,} to {PRIORITY_LIMIT:,}")
        if priority:
            fields["priority"] = (priority, 0)
        translations = values.get("translations") or {}
        if not isinstance(translations, dict):
            raise EditError("translations must be an object like {\"en\": \"Hofu City\"}")
        for code, text in translations.items():
            if not isinstance(code, str) or not LANGUAGE.match(code):
                raise EditError(f"'{code}' は言語コードではありません (en, vi, zh ...)")
            if text not in (None, ""):
                fields[code] = (text, 0)
        entry, problems = build_entry(fields, "admin", 0)
        if problems or entry is None:
            raise EditError("; ".join(p.message for p in problems) or "invalid entry")
        return entry

    @staticmethod
    def _edit(action, *args):
        """Run an edit; a refused edit or an unreadable word file becomes an EditError for the page."""
        try:
            return action(*args)
        except EditRefused as e:
            raise EditError(str(e), e.problems, e.status) from e
        except CaptionerError as e:  # a word file that does not parse: fix it first
            raise EditError(str(e), [str(e)], status=409) from e

    def _warnings(self, entry) -> list[str]:
        missing = self.unwritable(entry.surface) if self.unwritable is not None else ""
        if not missing:
            return []
        return [f"音声認識モデルは「{missing}」を書けません。{entry.surface} はホットワードになりません（読みによる補正は働きます）"]

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _row(self, entry) -> dict[str, Any]:
        file, _, line = entry.source.rpartition(":")
        return {
            "surface": entry.surface,
            "reading": entry.reading,
            "aliases": list(entry.aliases),
            "translations": dict(entry.translations),
            "note": entry.note,
            "priority": entry.priority,
            "picture": entry.picture,
            "file": Path(file).name if file else "",
            "line": int(line) if line.isdigit() else 0,
        }

    def _relative(self, text: str) -> str:
        return text.replace(str(self.folder) + os.sep, "")
