"""The resident's phone page (``/t``) and the clerk's controls of it (see :mod:`web.takeaway`).

``/t?k=KEY`` spends the one-time key, sets the phone's cookie and sends it to ``/t`` (the key
leaves the address bar); ``/t`` shows the conversation to that phone only. The page is built
here as HTML with every text escaped, works without network beyond the counter's LAN (no
CDN), on a phone and in print (A4, ``takeaway.css``).
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from captioner.core.numerals import to_digits
from web import qr
from web.addresses import viewer_url
from web.conversation.errors import ConversationError
from web.gate import Gate, json_object
from web.takeaway import Takeaway, TakeawayLine

COOKIE = "cc_take"
KIND_NAMES = {
    "amount": ("金額", "Amount"), "date": ("日付", "Date"), "time": ("時刻", "Time"),
    "phone": ("電話", "Phone"), "place": ("場所", "Place"), "word": ("用語", "Term"),
}  # fmt: skip
GONE = (
    "<h1>このページは表示できません</h1>"
    "<p>会話の記録は、{minutes}分たつか次のお客様の会話が始まると消去されます。QR コードは一度だけ使えます。"
    "必要なときは窓口の職員にお尋ねください。</p>"
    '<p lang="en">This page is no longer available. The record of the conversation is erased after a while or when '
    "the next conversation starts, and each QR code works once. Please ask the clerk at the counter.</p>"
)


def routes(gate: Gate, takeaway: Takeaway) -> list:
    gone = GONE.format(minutes=round(takeaway.seconds / 60))

    async def phone(request: Request) -> Response:
        key = request.query_params.get("k")
        if key is not None:
            cookie = takeaway.open(key)
            if cookie is None:
                return _page(gone, 404)
            response = Response(status_code=303, headers=gate.headers({"Location": "/t"}))
            response.set_cookie(COOKIE, cookie, max_age=int(takeaway.seconds), httponly=True, samesite="lax",
                                secure=request.url.scheme == "https", path="/t")  # fmt: skip
            return response
        view = takeaway.view(request.cookies.get(COOKIE))
        if view is None:
            response = _page(gone, 404)
            response.delete_cookie(COOKIE, path="/t")
            return response
        return _page(render(view, gate.options.counter), 200)

    async def state(request: Request) -> Response:
        return gate.json(takeaway.clerk_state())

    async def issue(request: Request) -> Response:
        if not takeaway.enabled:
            raise ConversationError("スマホに渡す機能は無効です（web.takeaway_minutes: 0）", status=409)
        base = viewer_url(gate.options, gate.port_of(request), host=gate.qr_host(request), with_pin=False)
        issued = takeaway.issue(base)
        if issued is None:
            raise ConversationError("渡せる字幕がありません（この会話の字幕がまだないか、すべて外されています）", status=409)
        return gate.json({"ok": True, "expires_s": issued["expires_s"]})

    async def line(request: Request) -> Response:
        body = await json_object(request)
        if not takeaway.remove(body.get("id"), body.get("removed", True) is not False):
            raise ConversationError("その字幕はこの会話にありません", status=404)
        return gate.json(takeaway.clerk_state())

    return [
        Route("/t", phone),
        Route("/admin/clerk/api/takeaway", gate.clerk(state, change=False), methods=["GET"]),
        Route("/admin/clerk/api/takeaway/issue", gate.clerk(issue), methods=["POST"]),
        Route("/admin/clerk/api/takeaway/line", gate.clerk(line), methods=["POST"]),
    ]


def announcer(hub, takeaway: Takeaway) -> Callable[[str | None], None]:
    """Tells the tablets to show the QR code of a phone page's URL (None: take it down)."""

    def announce(url: str | None) -> None:
        if url is None:
            hub.broadcast({"t": "takeaway", "qr": None})
            return
        data = base64.b64encode(qr.svg(url)).decode("ascii")
        hub.broadcast({"t": "takeaway", "qr": f"data:image/svg+xml;base64,{data}", "expires_s": round(takeaway.seconds)})

    return announce


def _page(body: str, status: int) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><title>窓口でのお話</title>'
        '<link rel="stylesheet" href="/static/takeaway.css"><script src="/static/takeaway.js" defer></script>'
        f'</head><body class="ruby-on"><main>{body}</main></body></html>'
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def render(view: dict[str, Any], counter: str) -> str:
    """The phone page's body: the facts, the pictures, then every line (escaped)."""
    e = html.escape
    lines: list[TakeawayLine] = view["lines"]
    language = view["language"]
    facts: dict[tuple[str, str], None] = {}
    pictures: dict[str, dict[str, str]] = dict(view.get("pictures", {}))
    for line in lines:
        for start, end, kind in line.marks.get("facts", []):
            facts.setdefault((kind, to_digits(line.text[start:end])), None)
        if "pic" in line.marks:
            pictures.setdefault(line.marks["pic"]["word"], line.marks["pic"])
    out = [
        '<header><h1>窓口でのお話 <small lang="en">Your conversation at the counter</small></h1>',
        f'<p class="meta">{e(counter + " · ") if counter else ""}{time.strftime("%Y-%m-%d %H:%M")}'
        f' · <span class="expiry">{max(1, round(view["expires_in"] / 60))}分後に消えます / erased in {max(1, round(view["expires_in"] / 60))} min</span></p>',
        '<div class="tools"><button type="button" id="print">印刷 / Print</button>'
        '<button type="button" id="ruby" aria-pressed="true">ふりがな</button></div></header>',
    ]
    if facts:
        out.append('<section class="facts"><h2>大事なこと <small lang="en">Key points</small></h2><ul>')
        for kind, value in facts:
            ja, en = KIND_NAMES.get(kind, (kind, kind))
            out.append(f'<li><span class="kind">{e(ja)} <span lang="en">{e(en)}</span></span><strong>{e(value)}</strong></li>')
        out.append("</ul></section>")
    if pictures:
        out.append('<section class="pictures"><h2>絵 <small lang="en">Pictures</small></h2><div class="grid">')
        for word, pic in pictures.items():
            shown = f'<div class="card">{e(pic["card"])}</div>' if "card" in pic else f'<img src="{e(pic["src"])}" alt="{e(word)}">'
            out.append(f"<figure>{shown}<figcaption>{e(word)}</figcaption></figure>")
        out.append("</div></section>")
    out.append('<section class="lines"><h2>会話 <small lang="en">Conversation</small></h2><ol>')
    for line in lines:
        who = "resident" if line.source == "resident" else "clerk"
        label = "あなた / You" if who == "resident" else "窓口 / Clerk"
        own = line.translations.get(line.language) if who == "resident" and line.language != "ja" else None
        translated = own or (line.translations.get(language) if language != "ja" else None)
        out.append(f'<li class="{who}"><span class="who">{label}</span>')
        if translated:
            out.append(f'<p class="tr" lang="{e(line.language if own else language)}">{e(translated)}</p>')
        out.append(f'<p class="ja" lang="ja">{japanese(line.text, line.marks.get("facts", []), line.ruby)}</p>')
        out.append("</li>")
    out.append("</ol></section>")
    out.append('<footer><p>この記録はこの端末にだけ表示され、窓口のパソコンには残りません。'
               '<span lang="en"> Shown on this phone only; nothing of it is kept at the counter.</span></p></footer>')  # fmt: skip
    return "".join(out)


def japanese(text: str, facts: list, ruby: list) -> str:
    """Escaped Japanese with furigana (<ruby>) and the facts bold (<strong class="fact">)."""
    e = html.escape
    starts = {s: end for s, end, _ in facts}
    readings = {s: (end, reading) for s, end, reading in ruby}
    out: list[str] = []
    i, open_until = 0, None
    while i < len(text):
        if i in starts:
            out.append('<strong class="fact">')
            open_until = starts[i]
        base = readings.get(i)
        if base and (open_until is None or base[0] <= open_until) and not any(i < s < base[0] for s in starts):
            out.append(f"<ruby>{e(text[i:base[0]])}<rt>{e(base[1])}</rt></ruby>")
            i = base[0]
        else:
            out.append(e(text[i]))
            i += 1
        if open_until is not None and i >= open_until:
            out.append("</strong>")
            open_until = None
    if open_until is not None:
        out.append("</strong>")
    return "".join(out)
