"""The gate in front of every web route: who may ask, from where, and how much.

- who: the viewer PIN, the setup key, the QR code's conversation key or a tablet's own token
  (tablets, ``web.tablets``; throttled per client and, for wrong PINs, for all clients
  together), the admin session with its CSRF token, and the clerk (this PC itself, or an admin
  session);
- from where: the ``Host`` header must name this server and a WebSocket or a change
  (POST/PUT/DELETE) must come from its own pages (``Origin``, ``Sec-Fetch-Site``): no DNS
  rebinding, no cross-site WebSocket hijacking, no cross-site logins (:class:`Guard`, ASGI
  middleware in front of every route, static files and 404s included);
- security headers (CSP with ``connect-src`` limited to this server) on every response, and
  the limits on what a request may send; every string in a JSON body is made safe here, once
  (:func:`captioner.core.text.safe_text`: valid Unicode, no bidi or zero-width controls).

The route modules (``web/routes``) take every check from one :class:`Gate`.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from captioner.core.paths import data_dir
from captioner.core.text import safe_value
from web.addresses import lan_address, viewer_url
from web.admin import DictionaryAdmin, EditError, Session, Sessions, Throttle
from web.conversation.context import ConversationContext
from web.conversation.errors import ConversationError
from web.conversation.survey import SurveyError
from web.hub import CaptionHub
from web.messages_ja import japanese
from web.options import WebOptions
from web.tablets import COUNTER, DROPPED_FILE, GUEST, OPEN, Tablet, Tablets

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "cc_admin"
PIN_CLOSE = 4401  # WebSocket close code: wrong or missing viewer PIN (or key)
PIN_WAIT = 4429  # WebSocket close code: too many wrong PINs from this client, try again later
WS_MAX_MESSAGE = 4096  # bytes a viewer may send in one WebSocket message (it sends nothing)
JSON_MAX_DEPTH = 32  # nesting a request body may have (the admin page sends depth 2)
VERIFY_AT_ONCE = 2  # password checks running at once (scrypt N=2^17 takes 128 MiB each)
TABLET_POSTS = 30  # replies, buttons and survey answers one address may send ...
TABLET_WINDOW_S = 60.0  # ... in this many seconds (a resident answers every few seconds at most)
SOCKETS_PER_CLIENT = 16  # viewer WebSockets one address may hold (a tablet needs one; this PC is not counted)
TOO_MANY = 1013  # WebSocket close code: try again later (the viewer reconnects with a back-off)
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_ONLY = frozenset({"/qr.svg"})  # GETs only this server's pages may make (the QR code holds the viewer key)
EVERYONE = "*"  # the throttle key that counts wrong PINs from all clients together
NO_PASSWORD = "管理者パスワードが未設定です（captioner admin set-password）"
CLERK_ONLY = "この操作は窓口のパソコンから、または管理者ログインで行ってください"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'{sockets}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
Handler = Callable[[Any], Awaitable[Any]]
REFUSED = (ConversationError, SurveyError)  # shown as they are (in Japanese already)


class AdminContext:
    """What the admin routes need: the password hash, sessions, throttle and the dictionary."""

    def __init__(
        self,
        password_hash: str,
        secret: bytes,
        dictionary: DictionaryAdmin | None,
        *,
        session_minutes: int = 480,
        max_upload: int = 2 * 1024 * 1024,
        throttle: Throttle | None = None,
        everyone: Throttle | None = None,
    ) -> None:
        self.password_hash = password_hash
        self.sessions = Sessions(secret, session_minutes)
        self.dictionary = dictionary
        self.max_upload = max_upload
        self.throttle = throttle or Throttle()  # per client
        # all clients together: guesses from many addresses cannot keep scrypt (and the CPU) busy
        self.everyone = everyone or Throttle(free=20, max_wait=60, forget_after=3600)


class Gate:
    """The server's shared state and every check the routes make (see the module doc).

    ``status()`` describes the running captioner for the admin page; ``languages`` are the
    configured translation languages; ``viewer_secret`` derives the key the QR code carries
    instead of the PIN (:func:`viewer_key`; without it the key changes with every start).
    """

    def __init__(
        self,
        options: WebOptions,
        hub: CaptionHub,
        conversation: ConversationContext,
        *,
        admin: AdminContext | None = None,
        status: Callable[[], dict[str, Any]] | None = None,
        languages: list[str] | None = None,
        pin_throttle: Throttle | None = None,
        viewer_secret: bytes | None = None,
    ) -> None:
        self.options = options
        self.hub = hub
        self.conversation = conversation
        self.admin = admin
        self.status = status
        self.languages = list(languages or [])
        self.pins = pin_throttle or Throttle(free=5, max_wait=60)  # per client: PIN and key attempts
        self.everyone = Throttle(free=30, max_wait=60, forget_after=3600)  # wrong PINs from all clients together
        self.key = viewer_key(viewer_secret or secrets.token_bytes(32), options.viewer_pin) if options.viewer_pin else ""
        self.tablets = Tablets(hub, self.key, data_dir() / DROPPED_FILE)  # dropped counter tablets stay out after a restart
        conversation.conversation.on_end.append(lambda ended: self.tablets.conversation_ended(ended.conversation))
        self.verify_slots = asyncio.Semaphore(VERIFY_AT_ONCE)
        self.sockets: dict[str, int] = {}  # open viewer WebSockets per client address
        self.tablet_posts = RateLimit(TABLET_POSTS, TABLET_WINDOW_S)

    # -- answers -------------------------------------------------------------------------

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**SECURITY_HEADERS, "Cache-Control": "no-store", **(extra or {})}

    def page(self, name: str):
        from starlette.responses import FileResponse

        return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers=self.headers())

    def json(self, value: Any, extra: dict[str, str] | None = None):
        from starlette.responses import JSONResponse

        return JSONResponse(value, headers=self.headers(extra))

    def denied(self, status_code: int, message: str, problems: list[str] | None = None, retry: int | None = None):
        from starlette.responses import JSONResponse

        body = {"error": message, "problems": problems or []}
        extra = {"Retry-After": str(retry)} if retry else None
        return JSONResponse(body, status_code=status_code, headers=self.headers(extra))

    async def published(self, event):
        """Hand a reply, phrase or correction to every caption sink (off the loop); its id."""
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(self.conversation.conversation.publish, event)
        return self.json({"ok": True, "id": event.utterance_id})

    # -- tablets: the viewer PIN or key ---------------------------------------------------------

    @staticmethod
    def client_of(conn) -> str:
        return conn.client.host if conn.client else "?"

    def pin_ok(self, given: str | None) -> bool:
        if not self.options.viewer_pin:
            return True
        return given is not None and hmac.compare_digest(given.encode(), self.options.viewer_pin.encode())

    def admit(self, client: str, pin: str | None, given_key: str | None, *, ended_guest: bool = False) -> tuple[str, float, Tablet | str]:
        """("ok" | "wait" | "wrong", seconds to wait, who) for a viewer's PIN, key or token.

        ``who`` is the known :class:`web.tablets.Tablet` whose token was given, or the kind of
        tablet to let in: ``counter`` (the PIN or the setup key :attr:`key`), ``guest`` (the QR
        code's conversation key) or ``open`` (no PIN set). The client's throttle is checked and
        the attempt recorded *before* any secret is compared; wrong PINs from all clients
        together are also slowed down (a key or token cannot be guessed).
        """
        if not self.options.viewer_pin:
            return "ok", 0.0, self.tablets.of_token(given_key, ended_guest=ended_guest) or OPEN
        if pin and given_key is None:
            wait = self.everyone.wait(EVERYONE)
            if wait > 0:
                return "wait", wait, ""
        wait = self.pins.attempt(client)
        if wait > 0:
            return "wait", wait, ""
        if given_key is not None:
            who = self.tablets.of_token(given_key, ended_guest=ended_guest) or self._kind_of_key(given_key)
            if who is not None:
                self.pins.succeeded(client)
                return "ok", 0.0, who
        if pin and given_key is None:
            if self.pin_ok(pin):
                self.pins.succeeded(client)
                return "ok", 0.0, COUNTER
            self.everyone.failed(EVERYONE)
        return "wrong", 0.0, ""

    def _kind_of_key(self, given: str) -> str | None:
        """``counter`` for the setup key, ``guest`` for this conversation's QR key, else None."""
        for key, kind in ((self.key, COUNTER), (self.tablets.key, GUEST)):
            if hmac.compare_digest(given.encode(), key.encode()):
                return kind
        return None

    @contextlib.contextmanager
    def socket_slot(self, conn) -> Iterator[bool]:
        """Holds one of the client's viewer WebSockets while it is open; False when it has too many."""
        client = self.client_of(conn)
        counted = not is_loopback(client)
        if counted and self.sockets.get(client, 0) >= SOCKETS_PER_CLIENT:
            yield False
            return
        if counted:
            self.sockets[client] = self.sockets.get(client, 0) + 1
        try:
            yield True
        finally:
            if counted:
                self.sockets[client] -= 1
                if not self.sockets[client]:
                    del self.sockets[client]

    def tablet(self, handler: Handler, *, ended_guest: bool = False) -> Handler:
        """A tablet's POST (reply, button, survey) carries its token (or the viewer key or PIN);
        throttled like the viewer. The handler finds the tablet (or None) in ``request.state.tablet``;
        ``ended_guest``: a guest whose conversation ended is let in too (its survey)."""

        async def wrapper(request):
            client = self.client_of(request)
            headers = request.headers
            verdict, _, who = self.admit(client, headers.get("x-viewer-pin"), headers.get("x-viewer-key"), ended_guest=ended_guest)
            if verdict != "ok":
                return self.denied(403, "PIN が違います")
            request.state.tablet = who if isinstance(who, Tablet) else None
            wait = 0.0 if is_loopback(client) else self.tablet_posts.wait(client)  # this PC: the clerk, the benchmark
            if wait > 0:
                return self.denied(429, f"送信が続いたため {int(wait) + 1} 秒待ってください", retry=int(wait) + 1)
            return await self._answer(handler, request)

        return wrapper

    # -- the admin: a session, and its CSRF token for a change ---------------------------------

    @property
    def admin_ready(self) -> bool:
        return self.admin is not None and bool(self.admin.password_hash)

    @property
    def dictionary(self) -> DictionaryAdmin | None:
        return self.admin.dictionary if self.admin is not None else None

    def session_of(self, conn) -> Session | None:
        return self.admin.sessions.get(conn.cookies.get(COOKIE)) if self.admin is not None else None

    def guarded(self, handler: Handler, *, change: bool = True) -> Handler:
        """Needs a session; a change (POST/PUT/DELETE) also needs the session's CSRF token."""

        async def wrapper(request):
            if not self.admin_ready:
                return self.denied(403, NO_PASSWORD)
            session = self.session_of(request)
            if session is None:
                return self.denied(401, "ログインしてください")
            if change and request.method not in ("GET", "HEAD") and not _same_token(request, session):
                return self.denied(403, "CSRF トークンが違います。ページを再読み込みしてください")
            return await self._answer(handler, request)

        return wrapper

    # -- the clerk: this PC, or an admin session ---------------------------------------------

    def clerk_ok(self, conn, change: bool) -> bool:
        """A loopback client that opened the page as ``127.0.0.1``/``localhost`` (with
        ``web.clerk_local``), or an admin session (a change also needs its CSRF token). A
        request from another site in this PC's browser is refused by its
        ``Origin``/``Sec-Fetch-Site`` and the JSON content type."""
        session = self.session_of(conn)
        if session is not None:
            return not change or _same_token(conn, session)
        client = conn.client.host if conn.client else ""
        if not self.options.clerk_local or not is_loopback(client):
            return False
        if (conn.url.hostname or "") not in LOOPBACK_NAMES:
            return False
        origin = conn.headers.get("origin")
        if origin is not None and origin != f"{'https' if conn.url.scheme in ('https', 'wss') else 'http'}://{conn.headers.get('host', '')}":
            return False
        if conn.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        return not change or conn.headers.get("content-type", "").split(";")[0].strip() == "application/json"

    def clerk(self, handler: Handler, *, change: bool = True) -> Handler:
        async def wrapper(request):
            if not self.clerk_ok(request, change):
                return self.denied(403, CLERK_ONLY)
            return await self._answer(handler, request)

        return wrapper

    async def _answer(self, handler: Handler, request):
        try:
            return await handler(request)
        except EditError as e:  # in Japanese for the admin page (web/messages_ja.py)
            return self.denied(e.status, japanese(str(e)), problems=[japanese(p) for p in e.problems])
        except REFUSED as e:
            return self.denied(e.status, str(e))

    # -- addresses ------------------------------------------------------------------------

    def qr_host(self, conn) -> str:
        """The address for the QR code: configured, else the one this request came in on
        (never the request's Host header)."""
        options = self.options
        if options.server_name:
            return options.server_name
        if options.host not in ("0.0.0.0", "::", ""):
            return options.host
        local = (conn.scope.get("server") or ("", 0))[0] or ""
        return local if local and not is_loopback(local) else lan_address()

    def port_of(self, conn) -> int:
        return int((conn.scope.get("server") or ("", self.options.port))[1] or self.options.port)

    def conversation_url(self, conn) -> str:
        """The URL the QR code shows now: with this conversation's key when a PIN is set (``web.tablets``)."""
        return viewer_url(self.options, self.port_of(conn), host=self.qr_host(conn), key=self.tablets.key or None)


class RateLimit:
    """At most ``limit`` actions per client in any ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._times: dict[str, collections.deque[float]] = {}

    def wait(self, client: str) -> float:
        """0 and the action counted, or the seconds until the client may act again."""
        now = self.clock()
        times = self._times.setdefault(client, collections.deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        for other in [c for c, t in self._times.items() if not t and c != client]:  # forget quiet clients
            del self._times[other]
        if len(times) >= self.limit:
            return times[0] + self.window_s - now
        times.append(now)
        return 0.0


def _same_token(conn, session: Session) -> bool:
    token = conn.headers.get("x-csrf-token", "")
    return bool(token) and hmac.compare_digest(token.encode(), session.csrf.encode())


# ---------------------------------------------------------------------------- request limits


async def read_body(request, limit: int) -> bytes | None:
    """The body, or None when it is longer than ``limit`` bytes (read no further than that)."""
    length = request.headers.get("content-length")
    if length is not None and (not (length.isascii() and length.isdigit()) or int(length) > limit):
        return None
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


async def upload(request, limit: int) -> bytes:
    data = await read_body(request, limit)
    if data is None:
        raise EditError(f"ファイルが大きすぎます（{limit // 1024} KB まで）", status=413)
    return data


async def json_body(request, limit: int) -> Any:
    """The admin page's JSON (any value), nested no deeper than :data:`JSON_MAX_DEPTH`."""
    data = await upload(request, limit)
    if _json_depth(data) > JSON_MAX_DEPTH:
        raise EditError(f"JSON の入れ子が深すぎます（{JSON_MAX_DEPTH} 段まで）")
    try:
        return safe_value(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # ValueError: also a 5,000-digit number
        raise EditError(f"JSON が読めません: {str(e)[:200]}") from e


async def json_object(request, limit: int = 16 * 1024) -> dict[str, Any]:
    """A tablet's or the clerk's JSON object."""
    data = await read_body(request, limit)
    if data is None:
        raise ConversationError("送られたデータが大きすぎます", status=413)
    if _json_depth(data) > JSON_MAX_DEPTH:
        raise ConversationError(f"JSON の入れ子が深すぎます（{JSON_MAX_DEPTH} 段まで）")
    try:
        value = json.loads(data.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ConversationError("JSON が読めません") from None
    if not isinstance(value, dict):
        raise ConversationError("JSON オブジェクトを送ってください")
    return safe_value(value)


def _json_depth(data: bytes) -> int:
    """The deepest nesting of [ and { in a JSON text (outside strings), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > JSON_MAX_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


# ---------------------------------------------------------------------- hosts and origins


def viewer_key(secret: bytes, pin: str) -> str:
    """The key the QR code carries instead of the PIN: unguessable (144 bits), the same across
    restarts for one install secret and PIN, and revoked by changing the PIN."""
    mac = hmac.new(secret, b"viewer-key:" + pin.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode("ascii")


def is_loopback(address: str) -> bool:
    """This PC: 127.0.0.0/8, ::1, and 127.x written as an IPv6 address (a server on ``::``)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address == "localhost"
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def machine_names() -> set[str]:
    """This PC's host names and addresses (best effort, nothing is sent)."""
    names: set[str] = set()
    hostname = socket.gethostname()
    for name in (hostname, socket.getfqdn(), f"{hostname.split('.')[0]}.local"):
        if name:
            names.add(name.lower().rstrip("."))
    try:
        for info in socket.getaddrinfo(hostname, None):
            names.add(str(info[4][0]).split("%")[0].lower())
    except OSError:
        pass
    names.add(lan_address().lower())
    return names


def known_hosts(options: WebOptions) -> set[str]:
    """Host names a request may carry: loopback, this PC's names and addresses, the
    configured ``host`` and ``server_name``."""
    hosts = set(LOOPBACK_NAMES) | machine_names()
    for name in (options.host, options.server_name):
        if name and name not in ("0.0.0.0", "::"):
            hosts.add(name.lower().rstrip("."))
    return hosts


class HostCheck:
    """Which ``Host`` header values (and WebSocket/POST ``Origin`` values) are this server.

    An unknown name is refused (DNS rebinding; links built from Host); the address a
    connection arrived on is always accepted. The machine's names are looked up again at
    most every 30 s when an unknown name shows up (a new DHCP address)."""

    def __init__(self, options: WebOptions) -> None:
        self.options = options
        self.hosts = known_hosts(options)
        self.refreshed = time.monotonic()

    def name_ok(self, name: str, local: str) -> bool:
        name = name.strip("[]").lower().rstrip(".")
        if name in self.hosts or name == local.lower():
            return True
        if time.monotonic() - self.refreshed > 30:
            self.hosts, self.refreshed = known_hosts(self.options), time.monotonic()
            return name in self.hosts
        return False

    def host_ok(self, header: str, local: str) -> bool:
        match = _HOST.fullmatch(header.strip())
        if not match or (match["port"] and not 0 < int(match["port"]) < 65536):
            return False
        return self.name_ok(match["name"], local)

    def origin_ok(self, origin: str, scheme: str, local: str, port: int) -> bool:
        """Same origin: this server's scheme, one of its names and its port."""
        try:
            parts = urlsplit(origin)
            origin_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            return False
        expected = "https" if scheme in ("https", "wss") else "http"
        return parts.scheme == expected and bool(parts.hostname) and origin_port == port and self.name_ok(parts.hostname, local)


class Guard:
    """ASGI middleware in front of every route (pages, static files, 404s, WebSockets):

    - refuses an unknown ``Host`` (400) and a WebSocket, a POST/PUT/DELETE or a QR code request
      from another origin (403; ``Origin`` or ``Sec-Fetch-Site``): no cross-site WebSocket
      hijacking, no cross-site logins, no viewer key in another site's image;
    - answers ``/admin`` to this PC only unless ``web.admin_lan`` (403);
    - adds the security headers (CSP with ``connect-src`` limited to this server) to every
      response.
    """

    def __init__(self, app, hosts: HostCheck, admin_lan: bool) -> None:
        self.app = app
        self.hosts = hosts
        self.admin_lan = admin_lan

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[str, list[str]] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        local, port = (scope.get("server") or ("", 0))[:2]
        local = str(local or "")
        hosts = headers.get("host", [])
        if len(hosts) > 1 or (hosts and not self.hosts.host_ok(hosts[0], local)):
            await self._refuse(scope, receive, send, 400, "unknown Host")
            return
        origin = (headers.get("origin") or [None])[0]
        fetch_site = (headers.get("sec-fetch-site") or ["same-origin"])[0].lower()
        path = scope.get("path", "")
        checked = scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS or path in SAME_SITE_ONLY
        if checked and (
            fetch_site not in ("same-origin", "none")
            or (origin is not None and not self.hosts.origin_ok(origin, scope.get("scheme", "http"), local, int(port or 0)))
        ):
            log.info("refused a %s from another site (Origin: %s)", scope["type"], str(origin)[:100])
            await self._refuse(scope, receive, send, 403, "cross-site request refused")
            return
        if (path == "/admin" or path.startswith("/admin/")) and not self.admin_lan:
            client = (scope.get("client") or ("", 0))[0]
            if not is_loopback(str(client)):
                await self._refuse(scope, receive, send, 403, "the admin page answers this PC only (web.admin_lan)")
                return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        sockets = ""
        if hosts:
            sockets = f" ws://{hosts[0]} wss://{hosts[0]}"  # validated above: a known name and a port

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.lower().encode() not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", CSP.format(sockets=sockets).encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope, receive, send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": reason})  # before accept: HTTP 403
            return
        body = json.dumps({"error": reason}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        headers.append((b"content-security-policy", CSP.format(sockets="").encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
