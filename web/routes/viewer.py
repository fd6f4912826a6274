"""The tablets' routes: the caption page and its WebSocket, the QR code, and the resident's
buttons, replies and survey answers (with the viewer PIN, a key or the tablet's own token when
a PIN is set; who may watch is ``web.tablets``)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from web import qr
from web.conversation.survey import SurveyError
from web.gate import PIN_CLOSE, PIN_WAIT, TOO_MANY, Gate, json_object
from web.hub import stream
from web.rules import rules_json
from web.tablets import Tablet


def routes(gate: Gate) -> list:
    """The tablets' routes (every check from ``gate``)."""
    options, hub, conversation = gate.options, gate.hub, gate.conversation.conversation

    async def viewer(request: Request) -> Response:
        return gate.page("viewer.html")

    async def rules(request: Request) -> Response:
        return Response(rules_json(), media_type="application/json", headers=gate.headers({"Cache-Control": "max-age=3600"}))

    async def info(request: Request) -> Response:
        languages = list(dict.fromkeys([*gate.languages, *hub.languages]))
        return gate.json({"pin": bool(options.viewer_pin), "languages": languages, "furigana": options.furigana})

    async def qr_svg(request: Request) -> Response:
        verdict, wait, _ = gate.admit(gate.client_of(request), request.query_params.get("pin"), request.query_params.get("key"))
        if verdict == "wait":
            return gate.denied(429, f"PIN の誤りが続いたため {int(wait) + 1} 秒待ってください", retry=int(wait) + 1)
        if verdict == "wrong":
            return gate.denied(403, "PIN が違います")
        return Response(qr.svg(gate.conversation_url(request)), media_type="image/svg+xml", headers=gate.headers())

    async def ws(websocket: WebSocket) -> None:
        params = websocket.query_params
        client = gate.client_of(websocket)
        verdict, _, who = gate.admit(client, params.get("pin"), params.get("key"))
        await websocket.accept()
        if verdict != "ok":
            await websocket.close(code=PIN_WAIT if verdict == "wait" else PIN_CLOSE, reason="PIN")
            return
        with gate.socket_slot(websocket) as admitted:
            tablet = (who if isinstance(who, Tablet) else gate.tablets.add(who, client)) if admitted else None
            if tablet is None:
                await websocket.close(code=TOO_MANY, reason="too many connections from this address")
                return
            tablet.address = client
            try:
                since = max(0, int(params.get("since", "0")))
            except ValueError:
                since = 0
            hello = {"tablet": {"id": tablet.id, "key": tablet.token, "kind": tablet.kind}}  # kept instead of the PIN or key
            await stream(hub, websocket, since, params.get("epoch", ""), hello=hello, queues=tablet.queues)

    async def reply(request: Request) -> Response:
        body = await json_object(request)
        event = await run_in_threadpool(conversation.reply, body.get("text"), body.get("language"))
        return await gate.published(event)

    async def button(request: Request) -> Response:
        body = await json_object(request)
        return await gate.published(conversation.button(body.get("button"), body.get("language")))

    async def survey_answer(request: Request) -> Response:
        """One answer per conversation and tablet: the tablet is the one its token names (never
        a field of the body), and a phone answers only the conversation it watched."""
        body = await json_object(request)
        tablet = request.state.tablet
        if not options.survey:
            raise SurveyError("アンケートは行っていません", status=409)
        if body.get("conversation") not in {e.conversation for e in conversation.ended}:
            raise SurveyError("このアンケートの受付は終わりました", status=409)
        if tablet is None:
            raise SurveyError("この端末が分かりません。ページを再読み込みしてください", status=403)
        if not gate.tablets.may_answer(tablet, body["conversation"]):
            raise SurveyError("このアンケートの受付は終わりました", status=409)
        result = await run_in_threadpool(lambda: gate.conversation.survey.add(
            score=body.get("score"), comment=body.get("comment", ""), counter=options.counter,
            conversation=body.get("conversation"), tablet=tablet.id, language=body.get("language", "ja"),
        ))  # fmt: skip
        return gate.json(result)

    return [
        Route("/", viewer),
        Route("/rules.json", rules),
        Route("/info.json", info),
        Route("/qr.svg", qr_svg),
        WebSocketRoute("/ws", ws),
        Route("/api/reply", gate.tablet(reply), methods=["POST"]),
        Route("/api/button", gate.tablet(button), methods=["POST"]),
        Route("/api/survey", gate.tablet(survey_answer, ended_guest=True), methods=["POST"]),
    ]
