"""The web server: the app factory (:func:`create_app`) and the thread that runs it (:class:`WebServer`).

The app is the gate (``web.gate``: auth, Host and Origin checks, security headers, limits) in
front of the routes of the tablets, the admin page and the clerk (``web.routes``). Starlette
on uvicorn, in its own thread with its own event loop. The pipeline only calls ``hub.sink``
(non-blocking); everything else happens on the server's loop or, for file work, in its thread
pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from captioner.core.errors import CaptionerError
from captioner.core.events import CaptionEvent, UtteranceIds
from web.addresses import viewer_url
from web.admin import Throttle
from web.conversation.context import ConversationContext, default_context
from web.conversation.exchange import ReplyTranslator
from web.gate import STATIC, WS_MAX_MESSAGE, AdminContext, Gate, Guard, HostCheck, viewer_key
from web.hub import CaptionHub
from web.openfiles import Sparse, quiet_accept_errors, raise_open_files_limit
from web.options import WebOptions

log = logging.getLogger(__name__)
FIRST_REQUEST_S = 10.0  # a connection that sends nothing this long is closed
CONNECTIONS_PER_CLIENT = 64  # HTTP connections one address may hold open (a browser uses about 6)
# Connections waiting to be accepted, and how many asyncio accepts in one turn of the loop before
# any is closed (uvicorn's default, 2,048, lets one client's pile use up 1,024 open files at once).
ACCEPT_BACKLOG = 128


def create_app(
    options: WebOptions,
    hub: CaptionHub,
    *,
    admin: AdminContext | None = None,
    status: Callable[[], dict[str, Any]] | None = None,
    languages: list[str] | None = None,
    pin_throttle: Throttle | None = None,
    publish: Callable[[CaptionEvent], None] | None = None,
    conversation: ConversationContext | None = None,
    viewer_secret: bytes | None = None,
    replies: ReplyTranslator | None = None,
    ids: UtteranceIds | None = None,
):
    """The Starlette application (tests use it with ``TestClient`` or a real server).

    ``publish`` sends the events the conversation pages make (replies, corrections) to every
    caption sink (default: only this hub); ``conversation`` is a
    :class:`web.conversation.context.ConversationContext` (default: one on the data folder, with
    the session's reply translator ``replies`` and utterance ``ids``). ``viewer_secret``
    derives the viewer key that the QR code carries instead of the PIN
    (:func:`web.gate.viewer_key`); without it the key changes with every start.
    """
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from web.routes import admin as admin_routes
    from web.routes import clerk as clerk_routes
    from web.routes import pictures as picture_routes
    from web.routes import takeaway as takeaway_routes
    from web.routes import viewer as viewer_routes
    from web.takeaway import Takeaway
    from web.rules import rules_json

    context = conversation or default_context(options, hub, publish, translator=replies, ids=ids)
    gate = Gate(
        options, hub, context, admin=admin, status=status, languages=languages, pin_throttle=pin_throttle,
        viewer_secret=viewer_secret,
    )  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app):
        rules_json()  # computed once, before the first viewer asks
        hub.attach(asyncio.get_running_loop())
        try:
            yield
        finally:
            hub.attach(None)

    takeaway = Takeaway(hub, context.conversation, minutes=options.takeaway_minutes, marker=hub.marker)
    takeaway.announce.append(takeaway_routes.announcer(hub, takeaway))
    routes = [
        *viewer_routes.routes(gate),
        *admin_routes.routes(gate),
        *clerk_routes.routes(gate),
        *picture_routes.routes(gate),
        *takeaway_routes.routes(gate, takeaway),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.conversation = context
    app.state.takeaway = takeaway  # the caption window adds its QR code to ``takeaway.announce``
    app.router.redirect_slashes = False  # Starlette's slash redirects are absolute URLs built from Host
    app.add_middleware(Guard, hosts=HostCheck(options), admin_lan=options.admin_lan)
    return app


class LimitedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with two limits before any work: a connection must start its
    first request within :data:`FIRST_REQUEST_S`, and one address may hold at most
    :data:`CONNECTIONS_PER_CLIENT` (a connection that becomes a WebSocket leaves this count for
    the gate's own, ``web.gate.SOCKETS_PER_CLIENT``)."""

    per_client = CONNECTIONS_PER_CLIENT
    first_request_s = FIRST_REQUEST_S
    open_by_client: dict[str, int] = {}  # on the server's loop
    refused_last = ""  # the address of the latest refused connection
    refusals = Sparse(lambda count: _say_refused(count))  # refused connections (said at most every 30 s)

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._counted: str | None = None
        self._waiting: asyncio.TimerHandle | None = None
        client = self.client[0] if self.client else ""
        if self.open_by_client.get(client, 0) >= self.per_client:
            LimitedH11.refused_last = client
            self.refusals.count()  # a pile of connections must not become a pile of log lines
            transport.close()
            return
        self.open_by_client[client] = self.open_by_client.get(client, 0) + 1
        self._counted = client
        self._waiting = self.loop.call_later(self.first_request_s, self._silent)

    def data_received(self, data: bytes) -> None:
        self._stop_waiting()
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers a malformed request with a 400 even while the app is answering it (a
        body that turns to garbage while the gate reads it, or after its 413), and h11 then
        raises a traceback into the log; in that case the connection is just closed."""
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE) and (self.cycle is None or self.cycle.response_complete):
            super().send_400_response(msg)
        else:
            self.transport.close()  # connection_lost tells the app: its answer goes nowhere

    def handle_websocket_upgrade(self, event) -> None:
        self._release()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self._release()
        super().connection_lost(exc)

    def _silent(self) -> None:
        self._waiting = None
        if not self.transport.is_closing():
            self.transport.close()

    def _stop_waiting(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None

    def _release(self) -> None:
        if self._counted is not None:
            left = self.open_by_client.get(self._counted, 1) - 1
            if left > 0:
                self.open_by_client[self._counted] = left
            else:
                self.open_by_client.pop(self._counted, None)
            self._counted = None


def _say_refused(count: int) -> None:
    log.info("refused %d connection(s) from addresses holding %d already (the latest: %s); said at most every %g s",
             count, LimitedH11.per_client, LimitedH11.refused_last, LimitedH11.refusals.every)  # fmt: skip


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
        self.app = None  # the Starlette app, once started
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        import uvicorn

        raise_open_files_limit()
        quiet_accept_errors()
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
        sock.listen(ACCEPT_BACKLOG)
        self.port = sock.getsockname()[1]
        self.app = create_app(self.options, self.hub, **self.app_kwargs)
        config = uvicorn.Config(
            self.app,
            log_level="warning", access_log=False, lifespan="on", http=LimitedH11, ws="websockets-sansio",
            timeout_graceful_shutdown=2, ws_ping_interval=20, ws_ping_timeout=20,
            ws_max_size=WS_MAX_MESSAGE, server_header=False, backlog=ACCEPT_BACKLOG,
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
            watcher = asyncio.ensure_future(self._signal_started())
            try:
                await self._server.serve(sockets=[sock])
            finally:
                watcher.cancel()

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
