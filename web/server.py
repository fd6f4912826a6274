"""The web server: the tablet viewer (``/`` + WebSocket ``/ws``) and the admin page (``/admin``).

Starlette on uvicorn, in its own thread with its own event loop. The pipeline only calls
``hub.sink`` (non-blocking); everything else happens on the server's loop or, for file work,
in its thread pool.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from captioner.core.errors import CaptionerError
from web.admin import DictionaryAdmin, EditError, Sessions, Throttle, verify_password
from web.hub import CaptionHub
from web.options import WebOptions

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "cc_admin"
PIN_CLOSE = 4401  # WebSocket close code: wrong or missing viewer PIN (or key)
PIN_WAIT = 4429  # WebSocket close code: too many wrong PINs from this client, try again later
WS_MAX_MESSAGE = 4096  # bytes a viewer may send in one WebSocket message (it sends nothing)
JSON_MAX_DEPTH = 32  # nesting a request body may have (the admin page sends depth 2)
VERIFY_AT_ONCE = 2  # password checks running at once (scrypt N=2^17 takes 128 MiB each)
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EVERYONE = "*"  # the throttle key that counts wrong PINs from all clients together
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
    ) -> None:
        self.password_hash = password_hash
        self.sessions = Sessions(secret, session_minutes)
        self.dictionary = dictionary
        self.max_upload = max_upload
        self.throttle = throttle or Throttle()


def create_app(
    options: WebOptions,
    hub: CaptionHub,
    *,
    admin: AdminContext | None = None,
    status: Callable[[], dict[str, Any]] | None = None,
    languages: list[str] | None = None,
    pin_throttle: Throttle | None = None,
    publish: Callable[[Any], None] | None = None,
    conversation: Any = None,
    viewer_secret: bytes | None = None,
):
    """The Starlette application (tests use it with ``TestClient`` or a real server).

    ``publish`` sends the events the conversation pages make (replies, corrections) to every
    caption sink (default: only this hub); ``conversation`` is a
    :class:`web.clerk_api.ConversationContext` (default: one on the data folder).
    ``viewer_secret`` derives the viewer key that the QR code carries instead of the PIN
    (:func:`viewer_key`); without it the key changes with every start.
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket

    from web import qr
    from web.messages_ja import japanese
    from web.rules import rules_json

    pins = pin_throttle or Throttle(free=5, max_wait=60)  # per client: PIN and key attempts
    everyone = Throttle(free=30, max_wait=60, forget_after=3600)  # wrong PINs from all clients together
    key = viewer_key(viewer_secret or secrets.token_bytes(32), options.viewer_pin) if options.viewer_pin else ""
    configured = list(languages or [])
    verify_slots = asyncio.Semaphore(VERIFY_AT_ONCE)

    def headers(extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**SECURITY_HEADERS, "Cache-Control": "no-store", **(extra or {})}

    def client_of(conn) -> str:
        return conn.client.host if conn.client else "?"

    def pin_ok(given: str | None) -> bool:
        if not options.viewer_pin:
            return True
        return given is not None and hmac.compare_digest(given.encode(), options.viewer_pin.encode())

    def tablet_ok(request: Request) -> bool:
        """A tablet's POST (reply, button, survey) carries the viewer key or PIN; throttled like the viewer."""
        status, _ = admit(client_of(request), request.headers.get("x-viewer-pin"), request.headers.get("x-viewer-key"))
        return status == "ok"

    def admit(client: str, pin: str | None, given_key: str | None) -> tuple[str, float]:
        """("ok" | "wait" | "wrong", seconds to wait) for a viewer's PIN or key.

        The client's throttle is checked and the attempt recorded *before* the secret is
        compared; wrong PINs from all clients together are also slowed down (a tablet with
        the QR code's key is not: the key cannot be guessed).
        """
        if not options.viewer_pin:
            return "ok", 0.0
        if pin and given_key is None:
            wait = everyone.wait(EVERYONE)
            if wait > 0:
                return "wait", wait
        wait = pins.attempt(client)
        if wait > 0:
            return "wait", wait
        if given_key is not None and hmac.compare_digest(given_key.encode(), key.encode()):
            pins.succeeded(client)
            return "ok", 0.0
        if pin and given_key is None:
            if pin_ok(pin):
                pins.succeeded(client)
                return "ok", 0.0
            everyone.failed(EVERYONE)
        return "wrong", 0.0

    def qr_host(conn) -> str:
        """The address for the QR code: configured, else the one this request came in on
        (never the request's Host header)."""
        if options.server_name:
            return options.server_name
        if options.host not in ("0.0.0.0", "::", ""):
            return options.host
        local = (conn.scope.get("server") or ("", 0))[0] or ""
        return local if local and not _is_loopback(local) else lan_address()

    def port_of(conn) -> int:
        return int((conn.scope.get("server") or ("", options.port))[1] or options.port)

    def page(name: str) -> Response:
        return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers=headers())

    async def viewer(request: Request) -> Response:
        return page("viewer.html")

    async def rules(request: Request) -> Response:
        return Response(rules_json(), media_type="application/json", headers=headers({"Cache-Control": "max-age=3600"}))

    async def info(request: Request) -> Response:
        return JSONResponse(
            {"pin": bool(options.viewer_pin), "languages": _languages(configured, hub), "furigana": options.furigana},
            headers=headers(),
        )

    async def qr_svg(request: Request) -> Response:
        verdict, wait = admit(client_of(request), request.query_params.get("pin"), request.query_params.get("key"))
        if verdict == "wait":
            return denied(429, f"PIN の誤りが続いたため {int(wait) + 1} 秒待ってください", retry=int(wait) + 1)
        if verdict == "wrong":
            return JSONResponse({"error": "PIN が違います"}, status_code=403, headers=headers())
        url = viewer_url(options, port_of(request), host=qr_host(request), key=key or None)
        return Response(qr.svg(url), media_type="image/svg+xml", headers=headers())

    async def ws(websocket: WebSocket) -> None:
        params = websocket.query_params
        client = client_of(websocket)
        verdict, _ = admit(client, params.get("pin"), params.get("key"))
        await websocket.accept()
        if verdict != "ok":
            await websocket.close(code=PIN_WAIT if verdict == "wait" else PIN_CLOSE, reason="PIN")
            return
        if key:  # the tablet keeps the key, not the PIN
            await websocket.send_text(json.dumps({"t": "key", "key": key}))
        try:
            since = max(0, int(params.get("since", "0")))
        except ValueError:
            since = 0
        await stream(hub, websocket, since, params.get("epoch", ""))

    # -- admin ------------------------------------------------------------------------

    def session_of(request: Request):
        return admin.sessions.get(request.cookies.get(COOKIE)) if admin else None

    def denied(status_code: int, message: str, problems: list[str] | None = None, retry: int | None = None) -> Response:
        body = {"error": message, "problems": problems or []}
        extra = {"Retry-After": str(retry)} if retry else None
        return JSONResponse(body, status_code=status_code, headers=headers(extra))

    def guarded(handler, *, change: bool = True):
        """Needs a session; a change (POST/PUT/DELETE) also needs the session's CSRF token."""

        async def wrapper(request: Request) -> Response:
            if admin is None or not admin.password_hash:
                return denied(403, "管理者パスワードが未設定です（captioner admin set-password）")
            session = session_of(request)
            if session is None:
                return denied(401, "ログインしてください")
            if change and request.method not in ("GET", "HEAD"):
                token = request.headers.get("x-csrf-token", "")
                if not hmac.compare_digest(token.encode(), session.csrf.encode()):
                    return denied(403, "CSRF トークンが違います。ページを再読み込みしてください")
            try:
                return await handler(request)
            except EditError as e:  # in Japanese for the admin page (web/messages_ja.py)
                return denied(e.status, japanese(str(e)), problems=[japanese(p) for p in e.problems])

        return wrapper

    async def admin_page(request: Request) -> Response:
        return page("admin.html")

    async def login(request: Request) -> Response:
        if admin is None or not admin.password_hash:
            return denied(403, "管理者パスワードが未設定です（captioner admin set-password）")
        # cross-site requests never get here (_Guard); a form or text/plain POST is refused too
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return denied(415, "ログインは JSON で送ってください（Content-Type: application/json）")
        client = client_of(request)
        wait = admin.throttle.attempt(client)  # counted before the check: parallel guesses cannot race it
        if wait > 0:
            return denied(429, f"ログインの失敗が続いたため {int(wait) + 1} 秒待ってください", retry=int(wait) + 1)
        try:
            body = await _json_body(request, 4096)
        except EditError as e:
            return denied(e.status, str(e))
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str) or len(password) > 1024:
            return denied(401, "パスワードが違います")
        async with verify_slots:
            right = await run_in_threadpool(verify_password, password, admin.password_hash)
        if not right:
            return denied(401, "パスワードが違います")
        admin.throttle.succeeded(client)
        session, cookie = admin.sessions.create()
        response = JSONResponse({"csrf": session.csrf}, headers=headers())
        response.set_cookie(
            COOKIE, cookie, max_age=admin.sessions.lifetime, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/admin",
        )
        return response

    async def session_info(request: Request) -> Response:
        if admin is None or not admin.password_hash:
            return JSONResponse({"configured": False, "logged_in": False}, headers=headers())
        session = session_of(request)
        return JSONResponse(
            {"configured": True, "logged_in": session is not None, "csrf": session.csrf if session else None},
            headers=headers(),
        )

    async def logout(request: Request) -> Response:
        session = session_of(request)
        if session is not None:
            admin.sessions.end(session)
        response = JSONResponse({"ok": True}, headers=headers())
        response.delete_cookie(COOKIE, path="/admin")
        return response

    def need_dictionary():
        if admin.dictionary is None:
            raise EditError("辞書が無効です（dictionary.enabled: false）", status=409)
        return admin.dictionary

    async def words(request: Request) -> Response:
        dictionary = need_dictionary()
        if request.method == "GET":
            query = request.query_params.get("q", "")[:100]
            found = await run_in_threadpool(dictionary.search, query)
            found["problems"] = [japanese(p) for p in found["problems"]]
            return JSONResponse(found, headers=headers())
        body = await _json_body(request, 64 * 1024)
        return JSONResponse(await run_in_threadpool(dictionary.add, body), headers=headers())

    async def word(request: Request) -> Response:
        dictionary = need_dictionary()
        surface = request.path_params["surface"]
        if request.method == "DELETE":
            return JSONResponse(await run_in_threadpool(dictionary.delete, surface), headers=headers())
        body = await _json_body(request, 64 * 1024)
        return JSONResponse(await run_in_threadpool(dictionary.update, surface, body), headers=headers())

    async def import_csv(request: Request) -> Response:
        dictionary = need_dictionary()
        data = await _body(request, admin.max_upload)
        name = request.headers.get("x-filename", "upload.csv")[:200]
        return JSONResponse(await run_in_threadpool(dictionary.import_csv, data, name), headers=headers())

    async def export_csv(request: Request) -> Response:
        dictionary = need_dictionary()
        data = await run_in_threadpool(dictionary.export_csv)
        return Response(data, media_type="text/csv; charset=utf-8", headers=headers(
            {"Content-Disposition": 'attachment; filename="captioner-words.csv"'}
        ))

    async def admin_status(request: Request) -> Response:
        info = dict(status() if status else {})
        info["viewers"] = hub.viewer_count
        info["latency"] = hub.latencies[-10:]
        info["url"] = viewer_url(options, port_of(request), host=qr_host(request), with_pin=False)
        return JSONResponse(info, headers=headers())

    routes = [
        Route("/", viewer),
        Route("/rules.json", rules),
        Route("/info.json", info),
        Route("/qr.svg", qr_svg),
        WebSocketRoute("/ws", ws),
        Route("/admin", admin_page),
        Route("/admin/", lambda request: Response(status_code=308, headers=headers({"Location": "/admin"}))),  # relative
        Route("/admin/api/session", session_info),
        Route("/admin/api/login", login, methods=["POST"]),
        Route("/admin/api/logout", logout, methods=["POST"]),
        Route("/admin/api/words", guarded(words), methods=["GET", "POST"]),
        Route("/admin/api/words/{surface:str}", guarded(word), methods=["PUT", "DELETE"]),
        Route("/admin/api/import", guarded(import_csv), methods=["POST"]),
        Route("/admin/api/export", guarded(export_csv, change=False), methods=["GET"]),
        Route("/admin/api/status", guarded(admin_status, change=False), methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # -- the conversation: clerk page, replies, survey (web/clerk_api.py) ----------------------
    from web.clerk_api import build_routes, default_context

    context = conversation or default_context(options, hub, publish)
    routes[-1:-1] = build_routes(
        context, options, hub, headers=headers, admin_session=session_of, guarded=guarded, pin_ok=tablet_ok,
        dictionary=lambda: admin.dictionary if admin else None, page=page,
    )  # fmt: skip
    app = Starlette(routes=routes)
    app.state.conversation = context
    app.router.redirect_slashes = False  # Starlette's slash redirects are absolute URLs built from Host
    app.add_middleware(_Guard, hosts=HostCheck(options), admin_lan=options.admin_lan)
    return app


async def _body(request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not (length.isascii() and length.isdigit()) or int(length) > limit):
        raise EditError(f"ファイルが大きすぎます（{limit // 1024} KB まで）", status=413)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise EditError(f"ファイルが大きすぎます（{limit // 1024} KB まで）", status=413)
    return bytes(data)


async def _json_body(request, limit: int) -> Any:
    data = await _body(request, limit)
    if _json_depth(data) > JSON_MAX_DEPTH:
        raise EditError(f"JSON の入れ子が深すぎます（{JSON_MAX_DEPTH} 段まで）")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # ValueError: also a 5,000-digit number
        raise EditError(f"JSON が読めません: {str(e)[:200]}") from e


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


async def stream(hub: CaptionHub, websocket, since: int = 0, epoch: str = "") -> None:
    """Send the hub's messages to one WebSocket (the backlog after ``since``, then live) until it closes."""
    from starlette.websockets import WebSocketDisconnect

    queue, backlog, reset = hub.subscribe(since, epoch)
    try:
        await websocket.send_text(hub.hello(reset))
        for message in backlog:
            await websocket.send_text(message)
        await websocket.send_text('{"t":"live"}')
        receiver = asyncio.ensure_future(_drain(websocket))
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                getter.cancel()
                break
            message = getter.result()
            if message is None:
                receiver.cancel()
                await websocket.close(code=1012)  # the server restarts or the viewer lagged
                break
            await websocket.send_text(message)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.unsubscribe(queue)


async def _drain(websocket) -> None:
    """Read (and ignore) what the viewer sends, until it disconnects."""
    from starlette.websockets import WebSocketDisconnect

    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return


def _languages(configured: list[str], hub: CaptionHub) -> list[str]:
    return list(dict.fromkeys([*configured, *hub.languages]))


# ------------------------------------------------------------------- requests we refuse


def viewer_key(secret: bytes, pin: str) -> str:
    """The key the QR code carries instead of the PIN: unguessable (144 bits), the same across
    restarts for one install secret and PIN, and revoked by changing the PIN."""
    mac = hmac.new(secret, b"viewer-key:" + pin.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode("ascii")


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address == "localhost"


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


class _Guard:
    """ASGI middleware in front of every route (pages, static files, 404s, WebSockets):

    - refuses an unknown ``Host`` (400) and a WebSocket or a POST/PUT/DELETE from another
      origin (403; ``Origin`` or ``Sec-Fetch-Site``): no cross-site WebSocket hijacking, no
      cross-site logins;
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
        checked = scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
        if checked and (
            fetch_site not in ("same-origin", "none")
            or (origin is not None and not self.hosts.origin_ok(origin, scope.get("scheme", "http"), local, int(port or 0)))
        ):
            log.info("refused a %s from another site (Origin: %s)", scope["type"], str(origin)[:100])
            await self._refuse(scope, receive, send, 403, "cross-site request refused")
            return
        path = scope.get("path", "")
        if (path == "/admin" or path.startswith("/admin/")) and not self.admin_lan:
            client = (scope.get("client") or ("", 0))[0]
            if not _is_loopback(str(client)):
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


# ----------------------------------------------------------------------------- server


def lan_address() -> str:
    """This PC's address on the local network (best guess without sending anything)."""
    from web.addresses import AddressChoice
    from captioner.core.paths import data_dir

    best = AddressChoice(data_dir() / "lan-address.json").best()  # web/addresses.py: the admin's choice
    if best:
        return best
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for info in infos:
        address = info[4][0]
        if not address.startswith("127."):
            return address
    return socket.gethostname()


def viewer_url(
    options: WebOptions, port: int | None = None, *, host: str | None = None, with_pin: bool = True, key: str | None = None,
) -> str:  # fmt: skip
    """The URL a tablet opens; with the viewer ``key`` (never the PIN itself) when a PIN is
    set, so scanning the QR code is enough."""
    if host is None:
        host = options.server_name or options.host
        if host in ("0.0.0.0", "::", ""):
            host = lan_address()
    if ":" in host:
        host = f"[{host}]"
    url = f"{'https' if options.tls else 'http'}://{host}:{port or options.port}/"
    if with_pin and options.viewer_pin and key:
        url += f"?key={key}"
    return url


class WebServer:
    """Runs the app with uvicorn in a thread; ``start()`` returns once it accepts connections."""

    def __init__(self, options: WebOptions, hub: CaptionHub, **app_kwargs: Any) -> None:
        self.options = options
        self.hub = hub
        self.app_kwargs = app_kwargs
        secret = app_kwargs.setdefault("viewer_secret", None) or secrets.token_bytes(32)
        app_kwargs["viewer_secret"] = secret
        self.viewer_key = viewer_key(secret, options.viewer_pin) if options.viewer_pin else None
        self.port = options.port
        self._server = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        import uvicorn

        from web.rules import rules_json

        rules_json()  # computed once, before the first viewer asks
        tls = self._tls_files()
        family = socket.AF_INET6 if ":" in self.options.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.options.host, self.options.port))
        except OSError as e:
            sock.close()
            raise CaptionerError(
                f"web viewer: cannot listen on {self.options.host}:{self.options.port} ({e.strerror or e}); "
                "change web.port or set web.enabled: false"
            ) from e
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.options, self.hub, **self.app_kwargs),
            log_level="warning", access_log=False, lifespan="off", ws="websockets-sansio",
            timeout_graceful_shutdown=2, ws_ping_interval=20, ws_ping_timeout=20,
            ws_max_size=WS_MAX_MESSAGE, server_header=False,
            proxy_headers=False, forwarded_allow_ips=[],  # X-Forwarded-For is not a fresh identity
            ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="web-server")
        self._thread.start()
        try:
            self._started.wait(15)
        except BaseException:  # Ctrl+C while starting: the thread must not outlive the caller
            self.stop()
            raise
        if self._error is not None or not self._server.started:
            self.stop()
            raise CaptionerError(f"web viewer failed to start: {self._error}")

    def _tls_files(self) -> tuple[str, str] | None:
        """The certificate and key files (checked now, for a clear error), or None for HTTP."""
        if not self.options.tls:
            return None
        cert = str(Path(self.options.tls_cert).expanduser())
        key = str(Path(self.options.tls_key).expanduser())
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as e:
            raise CaptionerError(
                f"web viewer: cannot use web.tls_cert {cert} with web.tls_key {key} ({getattr(e, 'strerror', None) or e}); "
                "`captioner admin make-cert` writes a self-signed pair"
            ) from e
        return cert, key

    def _run(self, sock: socket.socket) -> None:
        async def serve() -> None:
            self.hub.attach(asyncio.get_running_loop())
            watcher = asyncio.ensure_future(self._signal_started())
            try:
                await self._server.serve(sockets=[sock])
            finally:
                watcher.cancel()
                self.hub.attach(None)

        try:
            asyncio.run(serve())
        except BaseException as e:  # reported by start()
            self._error = e
            log.exception("web server stopped")
        finally:
            sock.close()
            self._started.set()

    async def _signal_started(self) -> None:
        while not self._server.started:
            await asyncio.sleep(0.01)
        self._started.set()
        while not self._server.should_exit:
            await asyncio.sleep(0.1)
        self.hub.close_all()  # lets every viewer's sender finish so shutdown is quick

    def stop(self) -> None:
        """Close the viewers' connections and stop the thread (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    @property
    def url(self) -> str:
        """The URL for tablets and the QR code (with the viewer key when a PIN is set)."""
        return viewer_url(self.options, self.port, key=self.viewer_key)

    def local_url(self) -> str:
        """A URL for this PC itself (loopback), e.g. for tests and the benchmark."""
        host = "127.0.0.1" if self.options.host in ("0.0.0.0", "localhost", "127.0.0.1") else self.options.host
        return viewer_url(self.options, self.port, host=host, with_pin=False)

    def __enter__(self) -> WebServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
