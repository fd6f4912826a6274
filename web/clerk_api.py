"""HTTP routes of the conversation: the clerk's page and actions, the tablet's replies, buttons
and survey, and the admin's survey results, quick phrases and LAN address.

Who may do what:

- tablet (viewer) actions (``/api/...``): anyone who may see the captions (the viewer PIN,
  sent as ``X-Viewer-Pin``, when one is set);
- clerk actions (``/admin/clerk/...``): this PC itself (a loopback client that opened the page
  as ``127.0.0.1``/``localhost``, with ``web.clerk_local``), or an admin session (then with its
  CSRF token). Anything else, a tablet included, gets 403. A request from another site in
  this PC's browser is refused by its ``Origin``/``Sec-Fetch-Site`` and the JSON content type;
  the ``Host`` check stops DNS rebinding;
- admin settings (``/admin/api/...``): the admin session, as the rest of the admin page.

Text typed anywhere is sent back as JSON and shown with ``textContent``: never HTML.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web.addresses import AddressChoice, lan_addresses
from web.conversation import Conversation, ConversationError, Phrases, clean_input
from web.survey import SurveyError, SurveyStore

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FORBIDDEN = "この操作は窓口のパソコンから、または管理者ログインで行ってください"


@dataclass
class ConversationContext:
    """What the conversation routes need (built by :func:`web.server.create_app`)."""

    conversation: Conversation
    survey: SurveyStore
    phrases: Phrases
    addresses: AddressChoice
    local_clients: frozenset[str] = field(default=LOOPBACK)


def build_routes(
    ctx: ConversationContext,
    options,
    hub,
    *,
    headers: Callable[..., dict[str, str]],
    admin_session: Callable[[Any], Any],
    guarded: Callable[..., Any],
    pin_ok: Callable[[Any], bool],  # the request comes from a tablet with the viewer key or PIN (throttled)
    dictionary: Callable[[], Any],
    page: Callable[[str], Any],
) -> list:
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route, WebSocketRoute

    conversation = ctx.conversation

    def error(status: int, message: str) -> Response:
        return JSONResponse({"error": message, "problems": []}, status_code=status, headers=headers())

    def clerk_allowed(conn, change: bool) -> bool:
        """This PC (see the module doc) or an admin session (a change also needs its CSRF token)."""
        session = admin_session(conn)
        if session is not None:
            if not change:
                return True
            token = conn.headers.get("x-csrf-token", "")
            return bool(token) and hmac.compare_digest(token.encode(), session.csrf.encode())
        client = conn.client.host if conn.client else ""
        if not options.clerk_local or client not in ctx.local_clients:
            return False
        if (conn.url.hostname or "") not in LOCAL_HOSTS:
            return False
        origin = conn.headers.get("origin")
        if origin is not None and origin != f"{'https' if conn.url.scheme in ('https', 'wss') else 'http'}://{conn.headers.get('host', '')}":
            return False
        if conn.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        return not change or conn.headers.get("content-type", "").split(";")[0].strip() == "application/json"

    async def body_of(request: Request, limit: int = 16 * 1024) -> dict[str, Any]:
        data = await request.body()
        if len(data) > limit:
            raise ConversationError("送られたデータが大きすぎます", status=413)
        try:
            value = json.loads(data.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ConversationError("JSON が読めません") from None
        if not isinstance(value, dict):
            raise ConversationError("JSON オブジェクトを送ってください")
        return value

    def clerk(handler, change: bool = True):
        async def wrapper(request: Request) -> Response:
            if not clerk_allowed(request, change):
                return error(403, FORBIDDEN)
            try:
                return await handler(request)
            except (ConversationError, SurveyError) as e:
                return error(e.status, str(e))

        return wrapper

    def tablet(handler):
        async def wrapper(request: Request) -> Response:
            if not pin_ok(request):
                return error(403, "PIN が違います")
            try:
                return await handler(request)
            except (ConversationError, SurveyError) as e:
                return error(e.status, str(e))

        return wrapper

    async def send(event) -> Response:
        await run_in_threadpool(conversation.publish, event)
        return JSONResponse({"ok": True, "id": event.utterance_id}, headers=headers())

    # -- the clerk ----------------------------------------------------------------------

    async def clerk_page(request: Request) -> Response:
        return page("clerk.html")

    async def clerk_state(request: Request) -> Response:
        session = admin_session(request)
        return JSONResponse({
            **conversation.state(),
            "phrases": await run_in_threadpool(ctx.phrases.load),
            "csrf": session.csrf if session else None,
            "counter": options.counter,
            "dictionary": dictionary() is not None,
        }, headers=headers())  # fmt: skip

    async def clerk_socket(websocket) -> None:
        if not clerk_allowed(websocket, False):
            await websocket.close(code=4403)
            return
        await websocket.accept()
        await _stream(hub, websocket)

    async def correct(request: Request) -> Response:
        body = await body_of(request)
        return await send(conversation.correction(body.get("id"), body.get("text")))

    async def phrase(request: Request) -> Response:
        body = await body_of(request)
        return await send(conversation.phrase(body.get("text")))

    async def end(request: Request) -> Response:
        return JSONResponse(conversation.end("clerk"), headers=headers())

    async def register(request: Request) -> Response:
        body = await body_of(request)
        words = dictionary()
        if words is None:
            raise ConversationError("辞書が無効です（dictionary.enabled: false）", status=409)
        result = await run_in_threadpool(register_fix, words, body.get("wrong"), body.get("surface"), body.get("reading"))
        return JSONResponse(result, headers=headers())

    # -- the tablet ---------------------------------------------------------------------

    async def reply(request: Request) -> Response:
        body = await body_of(request)
        event = await run_in_threadpool(conversation.reply, body.get("text"), body.get("language"))
        return await send(event)

    async def button(request: Request) -> Response:
        body = await body_of(request)
        return await send(conversation.button(body.get("button"), body.get("language")))

    async def survey_answer(request: Request) -> Response:
        body = await body_of(request)
        if not options.survey:
            raise SurveyError("アンケートは行っていません", status=409)
        known = {e.conversation for e in conversation.ended}
        if body.get("conversation") not in known:
            raise SurveyError("このアンケートの受付は終わりました", status=409)
        result = await run_in_threadpool(lambda: ctx.survey.add(
            score=body.get("score"), comment=body.get("comment", ""), counter=options.counter,
            conversation=body.get("conversation"), tablet=body.get("tablet", ""), language=body.get("language", "ja"),
        ))  # fmt: skip
        return JSONResponse(result, headers=headers())

    # -- the admin ----------------------------------------------------------------------

    async def survey_summary(request: Request) -> Response:
        try:
            days = min(366, max(1, int(request.query_params.get("days", "31"))))
        except ValueError:
            days = 31
        try:
            return JSONResponse(await run_in_threadpool(ctx.survey.summary, days), headers=headers())
        except SurveyError as e:
            return error(e.status, str(e))

    async def survey_csv(request: Request) -> Response:
        try:
            data = await run_in_threadpool(ctx.survey.export_csv)
        except SurveyError as e:
            return error(e.status, str(e))
        return Response(data, media_type="text/csv; charset=utf-8", headers=headers(
            {"Content-Disposition": 'attachment; filename="captioner-survey.csv"'}
        ))  # fmt: skip

    async def phrases(request: Request) -> Response:
        if request.method == "PUT":
            try:
                body = await body_of(request, 64 * 1024)
                saved = await run_in_threadpool(ctx.phrases.save, body.get("phrases"))
            except ConversationError as e:
                return error(e.status, str(e))
            return JSONResponse({"phrases": saved}, headers=headers())
        return JSONResponse({"phrases": await run_in_threadpool(ctx.phrases.load)}, headers=headers())

    async def address(request: Request) -> Response:
        if request.method == "PUT":
            try:
                body = await body_of(request)
                chosen = body.get("address")
                await run_in_threadpool(ctx.addresses.choose, chosen if isinstance(chosen, str) and chosen else None)
            except ValueError as e:
                return error(400, str(e))
            except ConversationError as e:
                return error(e.status, str(e))
        found = await run_in_threadpool(lan_addresses)
        return JSONResponse({
            "addresses": found, "chosen": ctx.addresses.chosen(), "lan": options.lan,
            "url": None if not options.lan else _url(options, request, await run_in_threadpool(ctx.addresses.best)),
        }, headers=headers())  # fmt: skip

    return [
        Route("/clerk", clerk_page),
        Route("/admin/clerk/api/state", clerk(clerk_state, change=False), methods=["GET"]),
        WebSocketRoute("/admin/clerk/ws", clerk_socket),
        Route("/admin/clerk/api/correct", clerk(correct), methods=["POST"]),
        Route("/admin/clerk/api/phrase", clerk(phrase), methods=["POST"]),
        Route("/admin/clerk/api/end", clerk(end), methods=["POST"]),
        Route("/admin/clerk/api/register", clerk(register), methods=["POST"]),
        Route("/api/reply", tablet(reply), methods=["POST"]),
        Route("/api/button", tablet(button), methods=["POST"]),
        Route("/api/survey", tablet(survey_answer), methods=["POST"]),
        Route("/admin/api/survey", guarded(survey_summary, change=False), methods=["GET"]),
        Route("/admin/api/survey.csv", guarded(survey_csv, change=False), methods=["GET"]),
        Route("/admin/api/phrases", guarded(phrases), methods=["GET", "PUT"]),
        Route("/admin/api/address", guarded(address), methods=["GET", "PUT"]),
    ]


async def _stream(hub, websocket) -> None:
    """The captions (and replies, and conversation messages) as the viewers get them, from the start."""
    from web.server import stream

    await stream(hub, websocket)


def _url(options, request, address: str | None) -> str | None:
    from web.server import viewer_url

    if address is None:
        return None
    return viewer_url(options, request.url.port or options.port, host=address, with_pin=False)


def register_fix(words, wrong: Any, surface: Any, reading: Any = None) -> dict[str, Any]:
    """Make a clerk's fix stick: ``wrong`` becomes an alias of the word ``surface`` (added, with
    ``reading`` or the analyzer's reading, when it is not in the dictionary yet)."""
    from web.admin import EditError

    wrong = clean_input(wrong, 100, "誤った表記")
    surface = clean_input(surface, 100, "正しい表記")
    if wrong == surface:
        raise ConversationError("誤った表記と正しい表記が同じです")
    rows = [r for r in words.search(surface)["entries"] if r["surface"] == surface]
    try:
        if rows:
            row = rows[0]
            values = {"surface": surface, "reading": row["reading"], "aliases": list(dict.fromkeys([*row["aliases"], wrong])),
                      "note": row["note"], "priority": row["priority"], "translations": row["translations"]}  # fmt: skip
            try:
                result = words.update(surface, values)
            except EditError as e:
                if e.status != 404:  # a word from a CSV file: the alias goes to words.yaml
                    raise
                result = words.add({"surface": surface, "reading": row["reading"], "aliases": [wrong]})
            return {"status": "alias", "surface": surface, "alias": wrong, "result": result.get("status")}
        if not isinstance(reading, str) or not reading.strip():
            reading = _reading(surface)
        result = words.add({"surface": surface, "reading": reading.strip(), "aliases": [wrong]})
        return {"status": "added", "surface": surface, "alias": wrong, "reading": result["entry"]["reading"]}
    except EditError as e:
        raise ConversationError(f"辞書に登録できません: {e}", status=e.status) from e


def _reading(surface: str) -> str:
    """The analyzer's hiragana reading of a new word (its kana as they are)."""
    from dictionary.analyzer import shared_analyzer

    try:
        pieces = shared_analyzer().furigana(surface)
    except Exception as e:  # MeCab missing: the clerk types the reading
        raise ConversationError(f"読みを入力してください（自動の読みが使えません: {e}）") from e
    return "".join(reading or segment for segment, reading in pieces)


def data_path(name: str) -> Path:
    from captioner.core.paths import data_dir

    return data_dir() / name


def default_context(options, hub, publish=None, translate_options=None) -> ConversationContext:
    """The conversation on the data folder (survey database, quick phrases, chosen address)."""
    from web.addresses import CHOICE_FILE
    from web.conversation import PHRASES_FILE, ReplyTranslator
    from web.survey import FILE as SURVEY_FILE

    translator = ReplyTranslator(translate_options) if translate_options is not None and translate_options.languages else None
    return ConversationContext(
        Conversation(hub, publish, idle_s=options.idle_minutes * 60, survey=options.survey, translator=translator),
        SurveyStore(data_path(SURVEY_FILE)),
        Phrases(data_path(PHRASES_FILE)),
        AddressChoice(data_path(CHOICE_FILE)),
    )
