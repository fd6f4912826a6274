"""``captioner bench-web --conversation``: how fast a resident's reply reaches the clerk's screen.

A real server on loopback with N viewers (WebSocket clients that read every message, as
tablets do) and the clerk: the clerk's WebSocket (what the clerk page receives) and, with
``browser``, the clerk page itself in headless Chromium (the time the reply is on its screen,
read from the page). Replies are posted to ``/api/reply`` one at a time at a fixed rate, each
timed from just before the POST. Prints p50/p95/max in milliseconds.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import statistics
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50_ms": _percentile(values, 0.5),
        "p95_ms": _percentile(values, 0.95),
        "max_ms": round(max(values), 2) if values else None,
        "mean_ms": round(statistics.fmean(values), 2) if values else None,
    }


def _post(port: int, text: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"text": text, "language": "ja"}, ensure_ascii=False).encode()
    connection.request("POST", "/api/reply", body=body, headers={"Content-Type": "application/json"})
    status = connection.getresponse().status
    connection.close()
    return status


async def _clients(port: int, viewers: int, replies: int, rate: float) -> dict[str, Any]:
    import websockets

    sent: dict[str, float] = {}
    sent_wall: dict[str, float] = {}
    clerk_ms: list[float] = []
    viewer_ms: list[float] = []
    done = asyncio.Event()

    async def until_live(socket) -> None:
        while json.loads(await socket.recv())["t"] != "live":
            pass

    async def reader(url: str, into: list[float], ready: asyncio.Event) -> None:
        async with websockets.connect(url, max_size=2**22) as socket:
            await until_live(socket)
            ready.set()
            while not done.is_set():
                try:
                    raw = await asyncio.wait_for(socket.recv(), 0.5)
                except asyncio.TimeoutError:
                    continue
                now = time.perf_counter()
                message = json.loads(raw)
                if message.get("t") == "cap" and message["u"]["text"] in sent:
                    into.append((now - sent[message["u"]["text"]]) * 1000)

    base = f"ws://127.0.0.1:{port}"
    readies = [asyncio.Event() for _ in range(viewers + 1)]
    tasks = [asyncio.ensure_future(reader(f"{base}/admin/clerk/ws", clerk_ms, readies[0]))]
    tasks += [asyncio.ensure_future(reader(f"{base}/ws", viewer_ms, readies[i + 1])) for i in range(viewers)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    await asyncio.sleep(0.3)
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    for i in range(replies):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        text = f"返信の計測です {i:05d}"
        sent[text] = time.perf_counter()
        sent_wall[text] = time.time() * 1000
        status = await loop.run_in_executor(None, _post, port, text)
        if status != 200:
            raise RuntimeError(f"/api/reply answered {status}")
    deadline = time.perf_counter() + 10
    while (len(clerk_ms) < replies or len(viewer_ms) < replies * viewers) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"clerk_socket": clerk_ms, "viewers": viewer_ms, "sent_wall": sent_wall}


def _clerk_page(url: str):
    """The clerk page in headless Chromium (the Debian package): (page, playwright, browser)."""
    import shutil

    from playwright.sync_api import sync_playwright

    from captioner.core.errors import CaptionerError

    executable = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if executable is None:
        raise CaptionerError("--browser needs Chromium (apt-get install chromium) and playwright")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("#app:not([hidden])")
    return page, playwright, browser


def run_conversation_bench(*, viewers: int = 20, replies: int = 100, rate: float = 5.0, browser: bool = False) -> dict[str, Any]:
    """Start a server on loopback, connect ``viewers`` and the clerk, post ``replies``; the figures."""
    import tempfile

    from web.addresses import AddressChoice
    from web.conversation.context import ConversationContext
    from web.conversation.exchange import Conversation
    from web.conversation.phrases import Phrases
    from web.conversation.survey import SurveyStore
    from web.hub import CaptionHub
    from web.options import WebOptions
    from web.server import WebServer

    hub = CaptionHub(history=10)
    with tempfile.TemporaryDirectory(prefix="captioner-bench-") as folder:
        context = ConversationContext(
            Conversation(hub, idle_s=0), SurveyStore(f"{folder}/s.sqlite3"), Phrases(f"{folder}/p.json"),
            AddressChoice(f"{folder}/a.json"),
        )  # fmt: skip
        server = WebServer(WebOptions(port=0), hub, conversation=context)
        server.start()
        playwright = chromium = page = None
        try:
            if browser:
                page, playwright, chromium = _clerk_page(server.local_url() + "clerk")
            times: dict[str, Any] = {}
            errors: list[Exception] = []

            def clients() -> None:  # its own thread: the main thread drives Chromium
                try:
                    times.update(asyncio.run(_clients(server.port, viewers, replies, rate)))
                except Exception as e:  # noqa: BLE001 - raised again in the main thread
                    errors.append(e)

            worker = threading.Thread(target=clients, name="bench-clients")
            worker.start()
            while worker.is_alive():
                if page is not None:
                    page.wait_for_timeout(100)  # lets Playwright deliver the page's events meanwhile
                else:
                    worker.join(0.1)
            if errors:
                raise errors[0]
            screen_ms: list[float] = []
            if page is not None:
                seen = page.evaluate("window.__clerk.state.seen")
                screen_ms = [seen[t] - sent for t, sent in times["sent_wall"].items() if t in seen]
        finally:
            if chromium is not None:
                chromium.close()
            if playwright is not None:
                playwright.stop()
            server.stop()
    result = {
        "viewers": viewers,
        "replies": replies,
        "rate_per_s": rate,
        "reply_to_clerk_socket": _summary(times["clerk_socket"]),
        "reply_to_every_viewer": _summary(times["viewers"]),
    }
    if browser:
        result["reply_to_clerk_screen"] = _summary(screen_ms)
    measured = result.get("reply_to_clerk_screen", result["reply_to_clerk_socket"])
    result["target"] = {"p95_ms": 200, "met": measured["p95_ms"] is not None and measured["p95_ms"] <= 200}
    return result
