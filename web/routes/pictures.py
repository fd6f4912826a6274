"""Pictures of registered words: served to the tablets and the phone page, uploaded on the admin
page (checked by :func:`dictionary.pictures.check_upload`), shown on demand by the clerk."""

from __future__ import annotations

from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from dictionary.pictures import MAX_BYTES, PictureError, PictureFolder, media_type
from web.conversation.errors import ConversationError
from web.gate import Gate, json_object, read_body
from web.marks import picture_message

# An SVG opened on its own runs no script and loads nothing (the upload check refuses both too).
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def folder_of(gate: Gate) -> PictureFolder | None:
    return PictureFolder(gate.dictionary.folder) if gate.dictionary is not None else None


def routes(gate: Gate) -> list:
    async def picture(request: Request) -> Response:
        folder = folder_of(gate)
        name = request.path_params["name"]
        path = folder.path(name) if folder is not None else None
        if path is None:
            return gate.denied(404, "その絵はありません")
        headers = gate.headers({"Cache-Control": "max-age=300", "Content-Security-Policy": SVG_POLICY})
        return FileResponse(path, media_type=media_type(name), headers=headers)

    async def upload(request: Request) -> Response:
        folder = folder_of(gate)
        if folder is None:
            return gate.denied(409, "辞書が無効です（dictionary.enabled: false）")
        if request.method == "GET":
            return gate.json({"pictures": await run_in_threadpool(folder.names), "max_kb": MAX_BYTES // 1024})
        name = unquote(request.headers.get("x-filename", "")[:600])  # URL-encoded by the admin page
        data = await read_body(request, MAX_BYTES)
        try:
            if data is None:
                raise PictureError(f"画像が大きすぎます（{MAX_BYTES // 1024} KB まで）", status=413)
            kind = await run_in_threadpool(folder.save, name, data)
        except PictureError as e:
            return gate.denied(e.status, str(e))
        return gate.json({"name": name, "type": kind, "hint": f"単語の「絵」欄に {name} と書くと表示されます"})

    async def show(request: Request) -> Response:
        """The clerk shows a registered word's picture on the tablets now."""
        body = await json_object(request)
        word = body.get("word")
        entries = {e.surface: e for e in await run_in_threadpool(_pictured, gate)}
        entry = entries.get(word) if isinstance(word, str) else None
        if entry is None or not entry.picture:
            raise ConversationError("その単語に絵は登録されていません", status=404)
        message = picture_message(entry.surface, entry.picture, media_type(entry.picture) is None)
        gate.hub.broadcast({"t": "pic", "pic": message})
        request.app.state.takeaway.picture_shown(message)  # the phone page lists it too
        return gate.json({"ok": True})

    async def pictured(request: Request) -> Response:
        """The registered words that have a picture (the clerk's list)."""
        found = await run_in_threadpool(_pictured, gate)
        return gate.json({"words": [{"word": e.surface, "picture": e.picture} for e in found]})

    return [
        Route("/pictures/{name:str}", picture),
        Route("/admin/api/pictures", gate.guarded(upload), methods=["GET", "POST"]),
        Route("/admin/clerk/api/pictures", gate.clerk(pictured, change=False), methods=["GET"]),
        Route("/admin/clerk/api/picture", gate.clerk(show), methods=["POST"]),
    ]


def _pictured(gate: Gate) -> list:
    """The dictionary's words that have a picture (read from the word folder)."""
    return [e for e in gate.dictionary.words.search("")[0] if e.picture] if gate.dictionary is not None else []
