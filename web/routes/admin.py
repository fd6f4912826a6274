"""The admin page's routes: login, the dictionary, the status, the survey results, the quick
phrases and the LAN address (every change with the session's CSRF token; see web.gate)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.addresses import lan_addresses, viewer_url
from web.admin import MAX_PASSWORD, DictionaryAdmin, EditError, verify_password
from web.conversation.errors import ConversationError
from web.gate import COOKIE, EVERYONE, NO_PASSWORD, Gate, json_body, json_object, upload
from web.messages_ja import japanese

WORDS_JSON_LIMIT = 64 * 1024  # bytes


def routes(gate: Gate) -> list:
    """The admin page's routes (every check from ``gate``)."""
    options, hub, admin, context = gate.options, gate.hub, gate.admin, gate.conversation

    async def admin_page(request: Request) -> Response:
        return gate.page("admin.html")

    async def to_admin(request: Request) -> Response:
        return Response(status_code=308, headers=gate.headers({"Location": "/admin"}))  # relative

    async def login(request: Request) -> Response:
        if not gate.admin_ready:
            return gate.denied(403, NO_PASSWORD)
        # cross-site requests never get here (web.gate.Guard); a form or text/plain POST is refused too
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return gate.denied(415, "ログインは JSON で送ってください（Content-Type: application/json）")
        client = gate.client_of(request)
        wait = admin.throttle.attempt(client)  # counted before the check: parallel guesses cannot race it
        if wait <= 0:
            wait = admin.everyone.attempt(EVERYONE)
        if wait > 0:
            return gate.denied(429, f"ログインの失敗が続いたため {int(wait) + 1} 秒待ってください", retry=int(wait) + 1)
        try:
            body = await json_body(request, 4096)
        except EditError as e:
            return gate.denied(e.status, str(e))
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            return gate.denied(401, "パスワードが違います")
        async with gate.verify_slots:
            right = await run_in_threadpool(verify_password, password, admin.password_hash)
        if not right:
            return gate.denied(401, "パスワードが違います")
        admin.throttle.succeeded(client)
        admin.everyone.succeeded(EVERYONE)
        session, cookie = admin.sessions.create()
        response = gate.json({"csrf": session.csrf})
        response.set_cookie(
            COOKIE, cookie, max_age=admin.sessions.lifetime, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/admin",
        )  # fmt: skip
        return response

    async def session_info(request: Request) -> Response:
        if not gate.admin_ready:
            return gate.json({"configured": False, "logged_in": False})
        session = gate.session_of(request)
        return gate.json({"configured": True, "logged_in": session is not None, "csrf": session.csrf if session else None})

    async def logout(request: Request) -> Response:
        session = gate.session_of(request)
        if session is not None:
            admin.sessions.end(session)
        response = gate.json({"ok": True})
        response.delete_cookie(COOKIE, path="/admin")
        return response

    def need_dictionary() -> DictionaryAdmin:
        if gate.dictionary is None:
            raise EditError("辞書が無効です（dictionary.enabled: false）", status=409)
        return gate.dictionary

    async def words(request: Request) -> Response:
        dictionary = need_dictionary()
        if request.method in ("GET", "HEAD"):  # a HEAD with a body is a read, never an edit without the CSRF token
            found = await run_in_threadpool(dictionary.search, request.query_params.get("q", "")[:100])
            found["problems"] = [japanese(p) for p in found["problems"]]
            return gate.json(found)
        body = await json_body(request, WORDS_JSON_LIMIT)
        return gate.json(await run_in_threadpool(dictionary.add, body))

    async def word(request: Request) -> Response:
        dictionary = need_dictionary()
        surface = request.path_params["surface"]
        if request.method == "DELETE":
            return gate.json(await run_in_threadpool(dictionary.delete, surface))
        body = await json_body(request, WORDS_JSON_LIMIT)
        return gate.json(await run_in_threadpool(dictionary.update, surface, body))

    async def import_csv(request: Request) -> Response:
        dictionary = need_dictionary()
        data = await upload(request, admin.max_upload)
        name = request.headers.get("x-filename", "upload.csv")[:200]
        return gate.json(await run_in_threadpool(dictionary.import_csv, data, name))

    async def export_csv(request: Request) -> Response:
        data = await run_in_threadpool(need_dictionary().export_csv)
        return Response(data, media_type="text/csv; charset=utf-8", headers=gate.headers(
            {"Content-Disposition": 'attachment; filename="captioner-words.csv"'}
        ))  # fmt: skip

    async def status(request: Request) -> Response:
        info = dict(gate.status() if gate.status else {})
        info["viewers"] = hub.viewer_count
        info["latency"] = hub.latencies[-10:]
        info["url"] = viewer_url(options, gate.port_of(request), host=gate.qr_host(request), with_pin=False)
        return gate.json(info)

    async def survey_summary(request: Request) -> Response:
        try:
            days = min(366, max(1, int(request.query_params.get("days", "31"))))
        except ValueError:
            days = 31
        return gate.json(await run_in_threadpool(context.survey.summary, days))

    async def survey_csv(request: Request) -> Response:
        data = await run_in_threadpool(context.survey.export_csv)
        return Response(data, media_type="text/csv; charset=utf-8", headers=gate.headers(
            {"Content-Disposition": 'attachment; filename="captioner-survey.csv"'}
        ))  # fmt: skip

    async def phrases(request: Request) -> Response:
        if request.method == "PUT":
            body = await json_object(request, 64 * 1024)
            return gate.json({"phrases": await run_in_threadpool(context.phrases.save, body.get("phrases"))})
        return gate.json({"phrases": await run_in_threadpool(context.phrases.load)})

    async def address(request: Request) -> Response:
        if request.method == "PUT":
            body = await json_object(request)
            chosen = body.get("address")
            try:
                await run_in_threadpool(context.addresses.choose, chosen if isinstance(chosen, str) and chosen else None)
            except ValueError as e:
                raise ConversationError(str(e)) from e
        found = await run_in_threadpool(lan_addresses)
        best = await run_in_threadpool(context.addresses.best) if options.lan else None
        return gate.json({
            "addresses": found, "chosen": context.addresses.chosen(), "lan": options.lan,
            "url": viewer_url(options, request.url.port or options.port, host=best, with_pin=False) if best else None,
        })  # fmt: skip

    return [
        Route("/admin", admin_page),
        Route("/admin/", to_admin),
        Route("/admin/api/session", session_info),
        Route("/admin/api/login", login, methods=["POST"]),
        Route("/admin/api/logout", logout, methods=["POST"]),
        Route("/admin/api/words", gate.guarded(words), methods=["GET", "POST"]),
        Route("/admin/api/words/{surface:str}", gate.guarded(word), methods=["PUT", "DELETE"]),
        Route("/admin/api/import", gate.guarded(import_csv), methods=["POST"]),
        Route("/admin/api/export", gate.guarded(export_csv, change=False), methods=["GET"]),
        Route("/admin/api/status", gate.guarded(status, change=False), methods=["GET"]),
        Route("/admin/api/survey", gate.guarded(survey_summary, change=False), methods=["GET"]),
        Route("/admin/api/survey.csv", gate.guarded(survey_csv, change=False), methods=["GET"]),
        Route("/admin/api/phrases", gate.guarded(phrases), methods=["GET", "PUT"]),
        Route("/admin/api/address", gate.guarded(address), methods=["GET", "PUT"]),
    ]
