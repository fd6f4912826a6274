"""The clerk's routes: the clerk's page and its live log, corrections, quick phrases, the end of a
conversation and registering a fix in the dictionary (this PC, or an admin session; see
:meth:`web.gate.Gate.clerk_ok`). Text typed anywhere is sent back as JSON and shown with
``textContent``: never HTML."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from web.conversation.errors import ConversationError
from web.conversation.register import register_fix
from web.gate import Gate, json_object
from web.hub import stream

CLERK_REFUSED = 4403  # WebSocket close code: not this PC and no admin session


def routes(gate: Gate) -> list:
    """The clerk's routes (every check from ``gate``)."""
    options, context = gate.options, gate.conversation
    conversation = context.conversation

    async def clerk_page(request: Request) -> Response:
        return gate.page("clerk.html")

    async def state(request: Request) -> Response:
        session = gate.session_of(request)
        return gate.json({
            **conversation.state(),
            "phrases": await run_in_threadpool(context.phrases.load),
            "csrf": session.csrf if session else None,
            "counter": options.counter,
            "dictionary": gate.dictionary is not None,
            "viewer": gate.conversation_url(request),
        })  # fmt: skip

    async def log(websocket: WebSocket) -> None:
        """The captions, replies and conversation messages as the viewers get them, from the start."""
        if not gate.clerk_ok(websocket, False):
            await websocket.close(code=CLERK_REFUSED)
            return
        await websocket.accept()
        await stream(gate.hub, websocket)

    async def correct(request: Request) -> Response:
        body = await json_object(request)
        return await gate.published(conversation.correction(body.get("id"), body.get("text")))

    async def phrase(request: Request) -> Response:
        body = await json_object(request)
        return await gate.published(conversation.phrase(body.get("text")))

    async def end(request: Request) -> Response:
        return gate.json(conversation.end("clerk"))

    async def tablets(request: Request) -> Response:
        """The tablets and phones that may watch now, and the QR code's URL for this conversation."""
        return gate.json({"tablets": gate.tablets.listing(), "viewer": gate.conversation_url(request)})

    async def drop(request: Request) -> Response:
        body = await json_object(request)
        if not gate.tablets.drop(str(body.get("id", ""))):
            raise ConversationError("その端末はもう接続していません", status=404)
        return gate.json({"dropped": True})

    async def register(request: Request) -> Response:
        body = await json_object(request)
        if gate.dictionary is None:
            raise ConversationError("辞書が無効です（dictionary.enabled: false）", status=409)
        result = await run_in_threadpool(register_fix, gate.dictionary, body.get("wrong"), body.get("surface"), body.get("reading"))
        return gate.json(result)

    return [
        Route("/clerk", clerk_page),
        Route("/admin/clerk/api/state", gate.clerk(state, change=False), methods=["GET"]),
        WebSocketRoute("/admin/clerk/ws", log),
        Route("/admin/clerk/api/correct", gate.clerk(correct), methods=["POST"]),
        Route("/admin/clerk/api/phrase", gate.clerk(phrase), methods=["POST"]),
        Route("/admin/clerk/api/end", gate.clerk(end), methods=["POST"]),
        Route("/admin/clerk/api/register", gate.clerk(register), methods=["POST"]),
        Route("/admin/clerk/api/tablets", gate.clerk(tablets, change=False), methods=["GET"]),
        Route("/admin/clerk/api/tablets/drop", gate.clerk(drop), methods=["POST"]),
    ]
