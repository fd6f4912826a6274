"""The web server: the tablet viewer (``/`` + WebSocket ``/ws``) and the admin page (``/admin``).

Starlette on uvicorn, in its own thread with its own event loop. The pipeline only calls
``hub.sink`` (non-blocking); everything else happens on the server's loop or, for file work,
in its thread pool.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from captioner.core.errors import CaptionerError
from web.admin import DictionaryAdmin, EditError, Sessions, Throttle, verify_password
from web.hub import CaptionHub
from web.options import WebOptions

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "cc_admin"
PIN_CLOSE = 4401  # WebSocket close code: wrong or missing viewer PIN
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


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
):
    """The Starlette application (tests use it with ``TestClient`` or a real server).

    ``publish`` sends the events the conversation pages make (replies, corrections) to every
    caption sink (default: only this hub); ``conversation`` is a
    :class:`web.clerk_api.ConversationContext` (default: one on the data folder).
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect

    from web import qr
    from web.messages_ja import japanese
    from web.rules import rules_json

    pins = pin_throttle or Throttle(free=5, max_wait=60)
    configured = list(languages or [])

    def headers(extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**SECURITY_HEADERS, "Cache-Control": "no-store", **(extra or {})}

    def client_of(conn) -> str:
        return conn.client.host if conn.client else "?"

    def pin_ok(given: str | None) -> bool:
        if not options.viewer_pin:
            return True
        return given is not None and hmac.compare_digest(given.encode(), options.viewer_pin.encode())

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
        if not pin_ok(request.query_params.get("pin")):
            return JSONResponse({"error": "PIN が違います"}, status_code=403, headers=headers())
        host = request.url.hostname
        if options.lan and host in ("127.0.0.1", "localhost", "::1"):  # opened on this PC: the LAN address for tablets
            host = None
        url = viewer_url(options, request.url.port or options.port, host=host)
        return Response(qr.svg(url), media_type="image/svg+xml", headers=headers())

    async def ws(websocket: WebSocket) -> None:
        params = websocket.query_params
        client = client_of(websocket)
        await websocket.accept()
        if options.viewer_pin:
            if pins.wait(client) > 0 or not pin_ok(params.get("pin")):
                pins.failed(client)
                await websocket.close(code=PIN_CLOSE, reason="PIN")
                return
            pins.succeeded(client)
        try:
            since = max(0, int(params.get("since", "0")))
        except ValueError:
            since = 0
        queue, backlog, reset = hub.subscribe(since, params.get("epoch", ""))
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
        client = client_of(request)
        wait = admin.throttle.wait(client)
        if wait > 0:
            return denied(429, f"ログインの失敗が続いたため {int(wait) + 1} 秒待ってください", retry=int(wait) + 1)
        try:
            body = await _json_body(request, 4096)
        except EditError as e:
            return denied(e.status, str(e))
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str) or not await run_in_threadpool(verify_password, password, admin.password_hash):
            admin.throttle.failed(client)
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
        info["url"] = viewer_url(options, request.url.port or options.port, with_pin=False)
        return JSONResponse(info, headers=headers())

    routes = [
        Route("/", viewer),
        Route("/rules.json", rules),
        Route("/info.json", info),
        Route("/qr.svg", qr_svg),
        WebSocketRoute("/ws", ws),
        Route("/admin", admin_page),
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
        context, options, hub, headers=headers, admin_session=session_of, guarded=guarded, pin_ok=pin_ok,
        dictionary=lambda: admin.dictionary if admin else None, page=page,
    )  # fmt: skip
    app = Starlette(routes=routes)
    app.state.conversation = context
    return app


async def _body(request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise EditError(f"ファイルが大きすぎます（{limit // 1024} KB まで）", status=413)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise EditError(f"ファイルが大きすぎます（{limit // 1024} KB まで）", status=413)
    return bytes(data)


async def _json_body(request, limit: int) -> Any:
    data = await _body(request, limit)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EditError(f"JSON が読めません: {e}") from e


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


def viewer_url(options: WebOptions, port: int | None = None, *, host: str | None = None, with_pin: bool = True) -> str:
    """The URL a tablet opens (with the viewer PIN, so scanning the QR code is enough)."""
    if host is None:
        host = options.host
        if host in ("0.0.0.0", "::", ""):
            host = lan_address()
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{port or options.port}/"
    if with_pin and options.viewer_pin:
        url += f"?pin={quote(options.viewer_pin)}"
    return url


class WebServer:
    """Runs the app with uvicorn in a thread; ``start()`` returns once it accepts connections."""

    def __init__(self, options: WebOptions, hub: CaptionHub, **app_kwargs: Any) -> None:
        self.options = options
        self.hub = hub
        self.app_kwargs = app_kwargs
        self.port = options.port
        self._server = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        import uvicorn

        from web.rules import rules_json

        rules_json()  # computed once, before the first viewer asks
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
        return viewer_url(self.options, self.port)

    def local_url(self) -> str:
        """A URL for this PC itself (loopback), e.g. for tests and the benchmark."""
        host = "127.0.0.1" if self.options.host in ("0.0.0.0", "localhost", "127.0.0.1") else self.options.host
        return viewer_url(self.options, self.port, host=host, with_pin=False)

    def __enter__(self) -> WebServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
