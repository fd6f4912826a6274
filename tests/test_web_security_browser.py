"""Cross-site attacks in a real headless Chromium: a page from another origin (a second server on
127.0.0.1, another port, standing in for evil.example) tries to read the captions over the
WebSocket and to lock the admin out with cross-site logins; and a tablet with a PIN stays usable."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.web_support import (
    TABLET,
    caption_text,
    event,
    wait_for_text,
    wait_js,
)
from web.admin import DictionaryAdmin, hash_password
from web.gate import AdminContext
from web.hub import CaptionHub
from web.options import WebOptions
from web.server import WebServer

PASSWORD = "madoguchi-2024"
EVIL_PAGE = b"""<!doctype html><meta charset="utf-8"><title>cute cats</title>
<script>
const target = new URLSearchParams(location.search).get("target");
window.stolen = []; window.wsState = "pending"; window.posts = 0;
const ws = new WebSocket("ws://" + target + "/ws");
ws.onmessage = (e) => window.stolen.push(e.data);
ws.onopen = () => { window.wsState = "open"; };
ws.onclose = (e) => { window.wsState = "closed:" + e.code; };
window.lockout = async () => {  // keeps posting wrong passwords while the page is open
  while (!window.halt) {
    try {
      await fetch("http://" + target + "/admin/api/login", {method: "POST", mode: "no-cors",
        headers: {"Content-Type": "text/plain"}, body: JSON.stringify({password: "guess-" + window.posts})});
    } catch (e) { /* refused */ }
    window.posts++;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};
</script>"""


class EvilHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(EVIL_PAGE)))
        self.end_headers()
        self.wfile.write(EVIL_PAGE)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def evil():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EvilHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cats.html"
    server.shutdown()
    server.server_close()


def test_a_foreign_page_cannot_read_the_captions(browser, evil):
    hub = CaptionHub()
    with WebServer(WebOptions(port=0), hub) as server:
        hub.sink(event("final", 1, "お名前は山田太郎さんですね。"))
        page = browser.new_page()
        page.goto(f"{evil}?target=127.0.0.1:{server.port}")
        wait_js(page, "window.wsState !== 'pending'")
        time.sleep(0.5)
        hub.sink(event("final", 2, "ご住所は防府市ですね。"))
        time.sleep(0.5)
        stolen = page.evaluate("window.stolen.join('\\n')")
        assert "山田太郎" not in stolen and "防府市" not in stolen, stolen
        assert page.evaluate("window.wsState").startswith("closed")
        # the viewer itself (same origin) still works
        viewer = browser.new_page(viewport=TABLET)
        viewer.goto(server.local_url())
        wait_for_text(viewer, "防府市")


def test_a_foreign_page_cannot_lock_the_admin_out(browser, evil, tmp_path):
    words = tmp_path / "words"
    words.mkdir()
    admin = AdminContext(hash_password(PASSWORD), b"k" * 32, DictionaryAdmin(words))
    with WebServer(WebOptions(port=0), CaptionHub(), admin=admin) as server:
        attacker = browser.new_page()
        attacker.goto(f"{evil}?target=127.0.0.1:{server.port}")
        attacker.evaluate("void window.lockout()")
        wait_js(attacker, "window.posts >= 15", timeout=60)  # still posting while the admin logs in

        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.local_url() + "admin")
        page.wait_for_selector("#login:not([hidden])")
        page.fill("#password", PASSWORD)
        page.click("#login-form button")
        page.wait_for_selector("#app:not([hidden])", timeout=30_000)
        assert page.text_content("#login-error") == ""
        attacker.evaluate("window.halt = true")


def test_a_tablet_with_a_pin_keeps_working_with_the_key(browser):
    hub = CaptionHub()
    with WebServer(WebOptions(port=0, viewer_pin="2468"), hub) as server:
        hub.sink(event("final", 1, "PIN のあとに見える字幕です。"))
        context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=True)
        page = context.new_page()
        page.goto(server.local_url())
        page.wait_for_selector("#pin-form:not([hidden])")
        page.fill("#pin", "2468")
        page.click("#pin-form button")
        wait_for_text(page, "PIN のあとに見える字幕です。")
        stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        token = page.evaluate("window.__viewer.state.tablet.key")  # its own token (issue 27), not the PIN
        assert "2468" not in stored and token in stored and page.evaluate("window.__viewer.state.tablet.kind") == "counter"
        page.reload()
        wait_for_text(page, "PIN のあとに見える字幕です。")  # no PIN asked again
        page.tap("#open-settings")
        page.tap("#show-qr")
        wait_js(page, "document.getElementById('qr').naturalWidth > 0")  # the QR button still works

        other = browser.new_context(viewport=TABLET).new_page()
        other.goto(server.url)  # what the QR code holds
        wait_for_text(other, "PIN のあとに見える字幕です。")
        assert "key=" not in other.url and caption_text(other)


def test_the_viewer_and_admin_page_work_over_https(browser, tmp_path):
    from web.tls import make_self_signed

    cert, key = make_self_signed(tmp_path / "tls", names=["localhost", "127.0.0.1"])
    hub = CaptionHub()
    admin = AdminContext(hash_password(PASSWORD), b"k" * 32, DictionaryAdmin(tmp_path))
    options = WebOptions(port=0, viewer_pin="604817", tls_cert=str(cert), tls_key=str(key))
    with WebServer(options, hub, admin=admin) as server:
        hub.sink(event("final", 1, "暗号化された字幕です。"))
        context = browser.new_context(viewport=TABLET, ignore_https_errors=True)  # the admin accepted the certificate
        page = context.new_page()
        page.goto(server.url.replace("127.0.0.1", "localhost"))
        wait_for_text(page, "暗号化された字幕です。")  # wss:// under the page's CSP
        admin_page = context.new_page()
        admin_page.goto(f"https://127.0.0.1:{server.port}/admin")
        admin_page.fill("#password", PASSWORD)
        admin_page.click("#login-form button")
        admin_page.wait_for_selector("#app:not([hidden])", timeout=30_000)


def test_a_residents_phone_sees_its_conversation_only_and_the_counters_tablet_goes_on(browser):
    """Issue 27 (Medium): a phone that scanned the QR code once read every later conversation.
    Now the phone (the QR code's conversation key) is told the conversation ended and gets
    nothing of the next one, also after a reload; the counter's tablet (the PIN) goes on."""
    import httpx

    hub = CaptionHub()
    with WebServer(WebOptions(port=0, viewer_pin="2468"), hub) as server:
        local = f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=local) as clerk:
            qr_url = clerk.get("/admin/clerk/api/state").json()["viewer"]
            counter = browser.new_context(viewport=TABLET).new_page()
            counter.goto(server.local_url())
            counter.wait_for_selector("#pin-form:not([hidden])")
            counter.fill("#pin", "2468")
            counter.click("#pin-form button")
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
            phone.goto(f"{local}/?key={qr_url.split('key=')[1]}")  # what the QR code on the counter holds
            hub.sink(event("final", 1, "住民票の写しですね。"))
            wait_for_text(phone, "住民票の写しですね。")
            wait_for_text(counter, "住民票の写しですね。")
            token = phone.evaluate("window.__viewer.state.key")
            assert clerk.post("/admin/clerk/api/end", json={}).status_code == 200
        wait_js(phone, "document.getElementById('status').textContent.includes('会話が終わりました')")
        phone.click("#scores button[data-score='5']")  # the phone still answers its own conversation's survey
        phone.click("#survey-send")
        phone.wait_for_selector("#survey-thanks:not([hidden])")
        hub.sink(event("final", 2, "次の方、どうぞ。", start=3, end=4))
        wait_for_text(counter, "次の方、どうぞ。")
        time.sleep(0.5)
        assert "次の方" not in caption_text(phone)
        phone.reload()  # it forgot its token: the PIN is asked
        phone.wait_for_selector("#pin-form:not([hidden])")
        phone.evaluate(f"localStorage.setItem('cc-viewer-key', {token!r})")  # a phone that slept through the end
        phone.reload()
        phone.wait_for_selector("#pin-form:not([hidden])")
        assert "QR コード" in phone.text_content("#pin-error") and "次の方" not in caption_text(phone)
