"""What the resident takes away, in a real headless Chromium on a real loopback server: a
registered word's picture beside the tablet's captions (never over them), facts bold in a
frame, the QR code at the clerk's button, the phone page on a 390×844 viewport (facts,
pictures, furigana), its A4 print layout, a reused or wrong key, and expiry.

Screenshots go to /work/takeaway-shots/ when that folder exists, else test-artifacts/web/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from dictionary.analyzer import shared_analyzer
from dictionary.store import load_folder
from display.highlights import Highlights
from tests.takeaway_support import dictionary_folder
from tests.web_support import ARTIFACTS, TABLET, event, wait_for_text, wait_js
from web.admin import DictionaryAdmin
from web.gate import AdminContext
from web.hub import CaptionHub, furigana_ranges
from web.marks import marker
from web.options import WebOptions
from web.server import WebServer

PHONE = {"width": 390, "height": 844}
SHOTS = Path("/work/takeaway-shots") if Path("/work/takeaway-shots").is_dir() else ARTIFACTS


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def server(tmp_path):
    folder = dictionary_folder(tmp_path)
    entries = load_folder(folder).entries
    hub = CaptionHub(ruby=furigana_ranges(shared_analyzer()))  # the real analyzer's furigana
    hub.marker = marker(Highlights(lambda: entries, folder))
    web = WebServer(WebOptions(port=0), hub, admin=AdminContext("", b"k" * 32, DictionaryAdmin(folder)))
    web.start()
    yield web
    web.stop()


def shot(page, name: str, **kw) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), **kw)
    return path


def boxes_overlap(a, b) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def open_tablet(browser, server, viewport=TABLET):
    page = browser.new_context(viewport=viewport, has_touch=True, is_mobile=True, locale="ja-JP").new_page()
    page.goto(server.local_url())
    page.wait_for_selector("#status:empty", state="attached")
    return page


def test_a_registered_word_shows_its_picture_beside_the_tablets_captions(browser, server):
    page = open_tablet(browser, server)
    hub = server.hub
    hub.sink(event("final", 1, "本人確認の書類が必要です。", start=0, end=2))
    wait_for_text(page, "本人確認")
    assert page.locator("#aside").is_hidden()
    hub.sink(event("final", 2, "マイナンバーカードは三百円、7月9日まで。", start=2.5, end=6))
    wait_for_text(page, "三百円")
    page.wait_for_selector("#aside.picture:not([hidden])")
    wait_js(page, "document.getElementById('aside-img').complete && document.getElementById('aside-img').naturalWidth > 0")
    assert page.text_content("#aside-word") == "マイナンバーカード"
    facts = page.eval_on_selector_all("#captions .fact", "nodes => nodes.map(n => n.textContent)")
    assert "".join(facts).endswith("カード三百円7月9日")  # the row before may have scrolled away
    weight = page.eval_on_selector("#captions .fact", "n => getComputedStyle(n).fontWeight")
    outline = page.eval_on_selector("#captions .fact", "n => getComputedStyle(n).outlineStyle")
    assert int(weight) >= 700 and outline == "solid"  # bold and a frame, not only colour
    aside = page.locator("#aside").bounding_box()
    for row in page.locator("#captions .row span").all():
        box = row.bounding_box()
        assert box is None or not boxes_overlap(aside, box), "the picture covers caption text"
    shot(page, "tablet-picture")

    hub.sink(event("final", 3, "福祉課へどうぞ。", start=7, end=8))  # a text card replaces it, one at a time
    wait_js(page, "document.getElementById('aside-word').textContent === '福祉課'")
    assert page.text_content("#aside-card") == "2階 5番窓口" and page.locator("#aside-img").is_hidden()

    shown = httpx.post(server.local_url() + "admin/clerk/api/picture", json={"word": "市民課"})  # the clerk, on demand
    assert shown.status_code == 200, shown.text
    wait_js(page, "document.getElementById('aside-word').textContent === '市民課'")
    wait_js(page, "document.getElementById('aside-img').naturalWidth > 0")  # the SVG, drawn


def conversation(hub):
    hub.sink(event("final", 1, "マイナンバーカードの再発行ですね。", start=0, end=2))
    hub.sink(event("final", 2, "手数料は八百円で、市民課の3番窓口でお支払いください。", start=3, end=6))
    hub.sink(event("final", 3, "新しいカードは7月9日の午後2時から受け取れます。", start=7, end=10))
    hub.sink(event("final", 4, "お電話番号は090-1234-5678でよろしいですか。", start=11, end=13))


def test_the_phone_page_lists_the_facts_prints_on_a4_and_expires(browser, server):
    tablet = open_tablet(browser, server)
    clerk = browser.new_page(viewport={"width": 1100, "height": 800})
    clerk.goto(server.local_url() + "clerk")
    clerk.wait_for_selector("#app:not([hidden])")
    wait_js(clerk, "document.getElementById('conn').textContent === '接続中'")
    conversation(server.hub)
    wait_for_text(tablet, "よろしいですか")
    wait_js(clerk, "document.querySelectorAll('#log li .fact').length >= 5")
    clerk.click("#log li:nth-child(4) .leave-out")  # the phone number stays off the phone page
    wait_js(clerk, "document.querySelector('#log li:nth-child(4) .leave-out.on') !== null")
    clerk.click("#end")  # 終了: the survey and the QR code on the tablet
    tablet.wait_for_selector("#aside.qr:not([hidden])")
    wait_js(tablet, "document.getElementById('aside-img').naturalWidth > 0")
    tablet.wait_for_selector("#survey:not([hidden])")
    assert not boxes_overlap(tablet.locator("#aside").bounding_box(), tablet.locator("#survey .card").bounding_box())
    shot(tablet, "tablet-qr")
    shot(clerk, "clerk-takeaway")
    takeaway = server.app.state.takeaway
    url = f"{server.local_url()}t?k={takeaway.key}"

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="ja-JP").new_page()
    phone.goto(url)
    assert phone.url.endswith("/t")  # the key left the address bar
    facts = phone.eval_on_selector_all(".facts li strong", "nodes => nodes.map(n => n.textContent)")
    assert {"800円", "3番窓口", "7月9日", "午後2時", "マイナンバーカード", "市民課"} <= set(facts)
    assert "よろしいですか" not in phone.content()  # the line the clerk left out
    assert phone.locator(".pictures img").count() == 2  # マイナンバーカード and 市民課
    assert phone.locator(".ja ruby").count() > 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    shot(phone, "phone-page", full_page=True)
    tablet.wait_for_selector("#aside", state="hidden")  # the QR code did its work

    phone.emulate_media(media="print")
    assert phone.locator(".tools").is_hidden()
    shot(phone, "print-page", full_page=True)
    printer = browser.new_context(viewport={"width": 794, "height": 1123}).new_page()  # A4 at 96 dpi
    printer.context.add_cookies(phone.context.cookies())
    printer.goto(server.local_url() + "t")
    printer.emulate_media(media="print")
    shot(printer, "print-page-a4", full_page=True)
    pdf = printer.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # the whole conversation on one page
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.?\d* 841\.?\d*", pdf) or re.search(rb"/MediaBox\s*\[\s*0 0 595\.?\d* 842", pdf)  # A4

    other = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    response = other.goto(url)  # the same QR code, a second time
    assert response.status == 404 and "表示できません" in other.text_content("h1")
    assert "八百円" not in other.content()
    assert other.goto(server.local_url() + "t?k=" + "A" * 24).status == 404

    later = time.monotonic() + 31 * 60
    takeaway.clock = lambda: later
    response = phone.goto(server.local_url() + "t")
    assert response.status == 404 and "表示できません" in phone.text_content("h1")
    assert "八百円" not in phone.content()
    assert takeaway.lines == {} and takeaway.key is None and takeaway.cookie is None
    phone.emulate_media(media="screen")
    shot(phone, "phone-expired")
