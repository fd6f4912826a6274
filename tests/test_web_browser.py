"""End to end in a real headless Chromium: captions from the pipeline on the tablet page,
late join, reconnect after a server restart, viewer settings, PIN, and the admin page
changing the next caption. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import time

import pytest

from captioner.app.config import Config
from tests.recognized import misheard_piece
from tests.web_support import (
    TABLET,
    caption_text,
    event,
    rows,
    screenshot,
    wait_for_text,
    wait_js,
)
from web.hub import CaptionHub
from web.options import WebOptions
from web.server import WebServer


def tablet(browser, **kw):
    context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=True, device_scale_factor=1, locale="ja-JP", **kw)
    return context.new_page()


def run_file(recognizer, path, sinks, dictionary=None, pace=3.0, partials=True) -> list:
    """Captions ``path`` into ``sinks``; returns the final events. ``partials=False``: each
    utterance decoded once, whole, without the previous caption (the same audio, the same text)."""
    from captioner.app.sinks import FinalsCollector
    from captioner.core.stages import fan_out, transformed
    from captioner.engine.audio import FileSource
    from captioner.engine.pipeline import CaptionPipeline

    config = Config()
    config.streaming.partials = partials
    config.asr.condition_on_previous = partials
    finals = FinalsCollector()
    sinks = [*sinks, finals]
    source = FileSource(str(path), pace=pace, block_ms=config.audio.block_ms)
    emit = fan_out(sinks)
    if dictionary is not None:  # the running stage the admin page edits (a session shares it the same way)
        emit = transformed(dictionary.apply, emit, "dictionary correction")
    CaptionPipeline(config, recognizer, source, emit, prompt_words=dictionary.prompt_words if dictionary else None).run()
    return [e for e in finals.events if e.is_final and e.text]


def shown_final(page, finals: list) -> str:
    """Waits until the page shows the end of the last final (no partial left on screen); the
    words are the recognizer's, which differ between processors, so they are taken from it."""
    tail = "".join(finals[-1].display_text.split())[-8:]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = "".join(caption_text(page).split())
        if tail in text and page.locator("#captions .s-partial").count() == 0:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{tail!r} not shown as final; the page shows {caption_text(page)!r}")


def seqs_unique(page) -> bool:
    seqs = page.evaluate("window.__viewer.state.seqs")
    return len(seqs) == len(set(seqs)) and seqs == sorted(seqs)


@pytest.mark.model
def test_pipeline_captions_late_join_and_reconnect_after_restart(browser, recognizer, eval_dir):
    hub = CaptionHub()
    server = WebServer(WebOptions(port=0), hub)
    server.start()
    try:
        page = tablet(browser)
        page.goto(server.local_url())
        page.wait_for_selector("#status:empty", state="attached")
        styles = page.evaluate_handle("""() => { const seen = new Set();
            new MutationObserver(() => document.querySelectorAll('#captions span').forEach(s => seen.add(s.className)))
              .observe(document.getElementById('captions'), {childList: true, subtree: true});
            return seen; }""")
        finals = run_file(recognizer, eval_dir / "d01.wav", [hub.sink])
        assert finals
        shown_final(page, finals)  # the final, not an earlier partial still on screen
        assert "s-partial" in page.evaluate("s => Array.from(s)", styles)  # partials were shown distinctly
        screenshot(page, "pipeline-captions-tablet")

        late = tablet(browser)
        late.goto(server.local_url())
        wait_for_text(late, "ございます", timeout=5)
        assert rows(late) == rows(page)  # a late viewer sees the same lines at once

        port = server.port
        server.stop()
        page.wait_for_selector("#status.bad", timeout=10_000)
        assert "再接続" in page.text_content("#status")
        screenshot(page, "reconnecting")
        hub = CaptionHub()
        server = WebServer(WebOptions(port=port), hub)
        server.start()
        page.wait_for_selector("#status:empty:not(.bad)", state="attached", timeout=15_000)
        hub.sink(event("final", 1, "再起動のあとの字幕です。", start=0, end=1))
        wait_for_text(page, "再起動のあとの字幕です。")
        assert "ございます" not in caption_text(page)  # the new run's captions only
        assert seqs_unique(page)
    finally:
        server.stop()


def test_dropped_connection_resumes_without_duplicates(browser):
    hub = CaptionHub()
    with WebServer(WebOptions(port=0), hub) as server:
        page = tablet(browser)
        page.goto(server.local_url())
        page.wait_for_selector("#status:empty", state="attached")
        hub.sink(event("final", 1, "一つ目の字幕です。", start=0, end=1))
        wait_for_text(page, "一つ目")
        page.evaluate("window.__viewer.state.socket.close()")  # the tablet's Wi-Fi drops
        hub.sink(event("partial", 2, "二つ目の", "", start=1.5, end=2))
        hub.sink(event("final", 2, "二つ目の字幕です。", start=1.5, end=3))
        text = wait_for_text(page, "二つ目の字幕です。")
        assert text.count("一つ目の字幕です。") == 1 and text.count("二つ目") == 1
        assert seqs_unique(page)
        assert len(page.evaluate("window.__viewer.state.seqs")) == 2  # the missed partial is not replayed


def test_viewer_settings_persist_furigana_language_and_fit_a_tablet(browser):
    hub = CaptionHub(ruby=__import__("web.hub", fromlist=["furigana_ranges"]).furigana_ranges(
        __import__("dictionary.analyzer", fromlist=["shared_analyzer"]).shared_analyzer()))
    hub.about = "音声認識 / Speech recognition: parakeet-ja (sherpa) · licence CC-BY-4.0 · NVIDIA"
    with WebServer(WebOptions(port=0), hub, languages=["en"]) as server:
        hub.sink(event("final", 1, "住民票の写しを発行するには、本人確認書類が必要です。", start=0, end=3))
        hub.sink(event("final", 1, "住民票の写しを発行するには、本人確認書類が必要です。", start=0, end=3,
                       translations={"en": "An ID document is needed to issue a copy of the residence certificate."},
                       details={"translation": {"en": {}}}, update="translation"))  # fmt: skip
        hub.sink(event("partial", 2, "それでは、こちらの申請書にご記入", "それでは、", start=3.5, end=6))
        page = tablet(browser)
        page.goto(server.local_url())
        wait_for_text(page, "ご記入")
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"  # dark by default
        screenshot(page, "tablet-dark")

        page.tap("#open-settings")
        assert page.is_visible("#settings") and "文字の大きさ" in page.text_content("#settings")
        assert page.is_visible("#about") and "CC-BY-4.0 · NVIDIA" in page.text_content("#about")  # attribution the licence asks for
        page.eval_on_selector("#size", "el => { el.value = 36; el.dispatchEvent(new Event('input')); }")
        page.eval_on_selector("#lines", "el => { el.value = 3; el.dispatchEvent(new Event('input')); }")
        page.tap("#furigana")
        page.tap("input[name=theme][value=light]")
        page.tap("#show-qr")
        wait_js(page, "document.getElementById('qr').naturalWidth > 0")
        screenshot(page, "tablet-settings")
        page.tap("#close-settings")
        assert page.locator(".rt").count() > 0 and "じゅうみん" in page.text_content("#captions")
        assert "住民票の写し" in caption_text(page)
        assert len(rows(page)) <= 3
        screenshot(page, "tablet-light-furigana")

        page.reload()  # choices persist in the browser
        wait_for_text(page, "ご記入")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        assert page.evaluate("document.documentElement.style.getPropertyValue('--size')") == "36px"
        assert page.locator(".rt").count() > 0 and len(rows(page)) <= 3

        page.tap("#open-settings")
        page.select_option("#language", "en")
        page.tap("#close-settings")
        wait_for_text(page, "residence certificate")
        assert "住民票" not in caption_text(page)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        screenshot(page, "tablet-english")


def test_wrong_pin_is_refused_in_the_browser(browser):
    hub = CaptionHub()
    with WebServer(WebOptions(port=0, viewer_pin="2468"), hub) as server:
        hub.sink(event("final", 1, "PIN のあとに見える字幕です。"))
        page = tablet(browser)
        page.goto(server.local_url())
        page.wait_for_selector("#pin-form:not([hidden])")
        assert caption_text(page) == ""
        page.fill("#pin", "1111")
        page.click("#pin-form button")
        wait_js(page, "document.getElementById('pin-error').textContent.includes('違います')")
        assert caption_text(page) == ""
        screenshot(page, "pin-refused")
        page.fill("#pin", "2468")
        page.click("#pin-form button")
        wait_for_text(page, "PIN のあとに見える字幕です。")
        other = tablet(browser)
        other.goto(server.url)  # the QR code's URL carries the viewer key (not the PIN)
        wait_for_text(other, "PIN のあとに見える字幕です。")
        assert "key=" not in other.url  # and it leaves the address bar


@pytest.mark.model
def test_admin_login_required_and_a_new_word_changes_the_next_caption(browser, recognizer, eval_dir, tmp_path, monkeypatch):
    from dictionary.stage import DictionaryStage
    from web.admin import hash_password
    from web.runner import start_web

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = Config()
    config.dictionary.folder = str(tmp_path / "words")
    config.web.port = 0
    config.web.admin_password_hash = hash_password("madoguchi-2024")
    stage = DictionaryStage(config.dictionary)
    server = start_web(config, recognizer=recognizer, dictionary=stage)
    try:
        viewer = tablet(browser)
        viewer.goto(server.local_url())
        admin = browser.new_page(viewport={"width": 1280, "height": 900})
        admin.on("dialog", lambda d: d.accept())
        base = server.local_url()
        assert admin.request.get(base + "admin/api/words").status == 401
        assert admin.request.post(base + "admin/api/words", data={"surface": "十六島", "reading": "うっぷるい"}).status in (401, 403)
        admin.goto(base + "admin")
        admin.wait_for_selector("#login:not([hidden])")
        admin.fill("#password", "wrong-password")
        admin.click("#login-form button")
        wait_js(admin, "document.getElementById('login-error').textContent.includes('違います')")
        admin.fill("#password", "madoguchi-2024")
        admin.click("#login-form button")
        admin.wait_for_selector("#app:not([hidden])")
        wait_js(admin, "document.getElementById('status').textContent.includes('base')")

        heard = run_file(recognizer, eval_dir / "d13.wav", [server.hub.sink], dictionary=stage, partials=False)
        first = shown_final(viewer, heard)
        assert "十六島" not in first

        admin.fill("#surface", "十六島")
        admin.fill("#reading", "うっぷるい")
        admin.fill("#aliases", misheard_piece(heard[0].text))  # what the clerk saw misheard (「辞書に登録」 does the same)
        admin.fill("#tr-en", "Uppurui")
        admin.click("#save")
        clicked = time.monotonic()
        while not any(e.surface == "十六島" for e in stage.entries):
            assert time.monotonic() - clicked < 2.0, "the word did not reach the captioner within 2 s"
            time.sleep(0.02)
        wait_js(admin, "document.getElementById('form-message').textContent.includes('登録しました')")
        admin.fill("#search", "うっぷ")
        wait_js(admin, "document.getElementById('words').textContent.includes('十六島')")
        screenshot(admin, "admin-word-added")
        assert "十六島" in (tmp_path / "words" / "words.yaml").read_text(encoding="utf-8")

        run_file(recognizer, eval_dir / "d13.wav", [server.hub.sink], dictionary=stage, partials=False)
        wait_for_text(viewer, "十六島")
        screenshot(viewer, "caption-after-admin-edit")
        wait_js(admin, "document.getElementById('status').textContent.includes('秒')")
        screenshot(admin, "admin-status")
    finally:
        server.stop()
