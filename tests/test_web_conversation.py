"""The conversation over a real server on loopback: replies, buttons, corrections, phrases, the
end of a conversation and the survey; who may call what (403); the survey store, its CSV and
the LAN addresses; the translation stage keeps a reply's own words; the conversation log."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import json
import sqlite3
import time

import pytest
import websockets

from captioner.core.events import CaptionEvent
from tests.web_support import event
from web.addresses import AddressChoice, lan_addresses, usable
from web.clerk_api import default_context
from web.conversation import INJECTED_BASE, ConversationError, Phrases
from web.hub import CaptionHub
from web.options import WebOptions
from web.server import WebServer
from web.survey import SurveyError, SurveyStore, safe_cell


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


class Received:
    """Everything the sinks got through ``publish`` (plus the hub: the browsers)."""

    def __init__(self, hub: CaptionHub) -> None:
        self.hub = hub
        self.events: list[CaptionEvent] = []

    def __call__(self, event: CaptionEvent) -> None:
        self.events.append(event)
        self.hub.sink(event)


def start(options: WebOptions | None = None, **kw):
    hub = CaptionHub()
    received = Received(hub)
    server = WebServer(options or WebOptions(port=0), hub, publish=received, **kw)
    server.start()
    return server, hub, received


def call(server, method: str, path: str, body=None, headers=None, host: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if host:
        all_headers["Host"] = host
    connection.request(method, path, body=None if body is None else json.dumps(body, ensure_ascii=False).encode(), headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data


def wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not true in time"
        time.sleep(0.02)


def test_reply_button_and_phrase_reach_every_sink():
    server, hub, received = start()
    try:
        status, answer = call(server, "POST", "/api/button", {"button": "slower", "language": "ja"})
        assert status == 200 and answer["id"] >= INJECTED_BASE
        status, _ = call(server, "POST", "/api/reply", {"text": "住所が変わりました\n<b>", "language": "ja"})
        assert status == 200
        wait(lambda: len(received.events) == 2)
        slower, reply = received.events
        assert (slower.source, slower.kind, slower.text, slower.details["button"]) == ("resident", "final", "ゆっくり話してください", "slower")
        assert reply.text == "住所が変わりました <b>"  # one line; kept as text (pages show it with textContent)
        assert reply.utterance_id != slower.utterance_id
        status, _ = call(server, "POST", "/admin/clerk/api/phrase", {"text": "お待ちください。"})
        assert status == 200
        wait(lambda: len(received.events) == 3)
        assert received.events[2].source == "clerk" and received.events[2].details == {"phrase": True}
        wait(lambda: hub.state_of(reply.utterance_id) is not None)
        message = hub.state_of(reply.utterance_id).message()["u"]
        assert message["src"] == "resident" and message["final"]
        assert call(server, "POST", "/api/button", {"button": "dance"})[0] == 400
        assert call(server, "POST", "/api/reply", {"text": "   "})[0] == 400
        assert call(server, "POST", "/api/reply", {"text": "あ" * 501})[0] == 400
    finally:
        server.stop()


def test_reply_in_another_language_without_translation_is_shown_as_typed_with_a_note():
    server, hub, received = start()
    try:
        call(server, "POST", "/api/reply", {"text": "Tôi muốn đổi địa chỉ", "language": "vi"})
        wait(lambda: received.events)
        reply = received.events[0]
        assert reply.text == "Tôi muốn đổi địa chỉ" and reply.language == "vi"
        assert reply.translations == {"vi": "Tôi muốn đổi địa chỉ"}
        assert "原文のまま" in reply.details["note"]
        wait(lambda: hub.state_of(reply.utterance_id) is not None)
        assert hub.languages == []  # a reply's own language is not offered as a caption channel
    finally:
        server.stop()


def test_correction_replaces_the_final_for_every_viewer():
    server, hub, received = start()

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as viewer:
            while json.loads(await viewer.recv())["t"] != "live":
                pass
            hub.sink(event("final", 7, "豊富市役所です。", start=0, end=2, translations={}))
            first = json.loads(await asyncio.wait_for(viewer.recv(), 5))
            assert first["u"]["text"] == "豊富市役所です。" and not first["u"]["corr"]
            status, _ = await asyncio.get_running_loop().run_in_executor(
                None, lambda: call(server, "POST", "/admin/clerk/api/correct", {"id": 7, "text": "防府市役所です。"})
            )
            assert status == 200
            fixed = json.loads(await asyncio.wait_for(viewer.recv(), 5))
            assert fixed["u"]["id"] == 7 and fixed["u"]["text"] == "防府市役所です。" and fixed["u"]["corr"]

    try:
        asyncio.run(scenario())
        correction = received.events[-1]
        assert (correction.update, correction.details, correction.committed) == ("correction", {"corrected": True}, "防府市役所です。")
        assert call(server, "POST", "/admin/clerk/api/correct", {"id": 99, "text": "x"})[0] == 404
        hub.sink(event("partial", 8, "いま話して", start=3, end=4))
        wait(lambda: hub.state_of(8) is not None)
        assert call(server, "POST", "/admin/clerk/api/correct", {"id": 8, "text": "x"})[0] == 409
    finally:
        server.stop()


def test_end_sends_the_survey_and_the_answer_is_stored_once_per_tablet(tmp_path):
    options = WebOptions(port=0, counter="福祉課 1番")
    server, hub, _ = start(options)

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as viewer:
            while json.loads(await viewer.recv())["t"] != "live":
                pass
            hub.sink(event("final", 1, "こんにちは。"))
            await viewer.recv()
            status, _ = await asyncio.get_running_loop().run_in_executor(None, lambda: call(server, "POST", "/admin/clerk/api/end", {}))
            assert status == 200
            return json.loads(await asyncio.wait_for(viewer.recv(), 5))

    try:
        ended = asyncio.run(scenario())
        assert ended["t"] == "conv" and ended["state"] == "ended" and ended["survey"]
        conversation = ended["conversation"]
        answer = {"conversation": conversation, "score": 4, "comment": "=HYPERLINK(\"x\")", "tablet": "t1", "language": "vi"}
        assert call(server, "POST", "/api/survey", answer)[0] == 200
        assert call(server, "POST", "/api/survey", {**answer, "score": 5})[0] == 200  # the same tablet changes its answer
        assert call(server, "POST", "/api/survey", {**answer, "tablet": "t2", "score": 2})[0] == 200
        assert call(server, "POST", "/api/survey", {**answer, "score": 6})[0] == 400
        assert call(server, "POST", "/api/survey", {**answer, "conversation": "forged-1"})[0] == 409
        database = tmp_path / "data" / "captioner" / "survey.sqlite3"
        rows = sqlite3.connect(database).execute("SELECT counter, score, comment, language FROM answers ORDER BY score").fetchall()
        assert rows == [("福祉課 1番", 2, '=HYPERLINK("x")', "vi"), ("福祉課 1番", 5, '=HYPERLINK("x")', "vi")]
    finally:
        server.stop()


def test_idle_conversation_ends_by_itself():
    hub = CaptionHub()
    context = default_context(WebOptions(port=0, idle_minutes=0.01), hub)  # 0.6 s
    server = WebServer(WebOptions(port=0), hub, conversation=context)
    server.start()

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as viewer:
            while json.loads(await viewer.recv())["t"] != "live":
                pass
            hub.sink(event("final", 1, "少々お待ちください。"))
            messages = []
            while not messages or messages[-1]["t"] != "conv":
                messages.append(json.loads(await asyncio.wait_for(viewer.recv(), 5)))
            return messages[-1]

    try:
        ended = asyncio.run(scenario())
        assert ended["reason"] == "idle" and ended["survey"]
        assert not context.conversation.active
    finally:
        server.stop()


def test_a_tablet_cannot_call_clerk_or_admin_actions():
    # clerk_local off: nobody counts as "this PC", as for a tablet on the LAN
    server, _, received = start(WebOptions(port=0, clerk_local=False, admin_password_hash=""))
    try:
        for path, body in [
            ("/admin/clerk/api/correct", {"id": 1, "text": "x"}), ("/admin/clerk/api/phrase", {"text": "x"}),
            ("/admin/clerk/api/end", {}), ("/admin/clerk/api/register", {"wrong": "a", "surface": "b"}),
        ]:
            status, answer = call(server, "POST", path, body)
            assert status == 403 and "窓口のパソコン" in answer["error"], path
        assert call(server, "GET", "/admin/clerk/api/state")[0] == 403
        assert call(server, "GET", "/admin/api/survey")[0] == 403
        assert call(server, "PUT", "/admin/api/phrases", {"phrases": ["x"]})[0] == 403
        assert call(server, "GET", "/admin/api/survey.csv")[0] == 403
        assert received.events == []
    finally:
        server.stop()
    server, _, _ = start()  # this PC, but a request that is not what the clerk page sends
    try:
        assert call(server, "POST", "/admin/clerk/api/end", {}, host="counter.example:8765")[0] in (400, 403)  # DNS rebinding: an unknown Host
        assert call(server, "POST", "/admin/clerk/api/end", {}, headers={"Origin": "http://evil.example"})[0] == 403
        assert call(server, "POST", "/admin/clerk/api/end", {}, headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
        assert call(server, "POST", "/admin/clerk/api/end", {}, headers={"Content-Type": "text/plain"})[0] == 403
        assert call(server, "POST", "/admin/clerk/api/end", {}, headers={"Origin": f"http://127.0.0.1:{server.port}"})[0] == 200
    finally:
        server.stop()


def test_viewer_pin_guards_the_tablet_actions():
    server, _, _ = start(WebOptions(port=0, viewer_pin="2468"))
    try:
        assert call(server, "POST", "/api/reply", {"text": "はい"})[0] == 403
        assert call(server, "POST", "/api/reply", {"text": "はい"}, headers={"X-Viewer-Pin": "2468"})[0] == 200
    finally:
        server.stop()


# ------------------------------------------------------------------------------ pieces


def test_survey_store_averages_and_csv_is_formula_safe(tmp_path):
    days = iter([dt.datetime(2026, 11, 27, 10, tzinfo=dt.timezone.utc)] * 2 + [dt.datetime(2026, 11, 28, 10, tzinfo=dt.timezone.utc)] * 10)
    store = SurveyStore(tmp_path / "s.sqlite3", now=lambda: next(days))
    store.add(score=5, counter="A", conversation="e-1", tablet="x")
    store.add(score=3, counter="B", conversation="e-1", tablet="y", comment="-2+3")
    store.add(score=4, counter="A", conversation="e-2", tablet="x", comment="@SUM(A1)")
    summary = store.summary()
    assert summary["answers"] == 3 and summary["average"] == 4.0
    assert summary["by_counter"] == [{"counter": "A", "answers": 2, "average": 4.5}, {"counter": "B", "answers": 1, "average": 3.0}]
    assert [d["day"] for d in summary["by_day"]] == ["2026-11-28", "2026-11-27", "2026-11-27"]
    text = store.export_csv().decode("utf-8-sig")
    assert "'-2+3" in text and "'@SUM(A1)" in text and "日時,窓口,言語,満足度,コメント" in text
    with pytest.raises(SurveyError):
        store.add(score=0)
    with pytest.raises(SurveyError):
        store.add(score=True)
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("＝1") == "'＝1" and safe_cell("ふつう") == "ふつう"


def test_survey_store_in_an_unwritable_place_says_so(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SurveyError, match="開けません"):
        SurveyStore(blocker / "sub" / "s.sqlite3").add(score=3)


def test_phrases_default_save_and_reject(tmp_path):
    phrases = Phrases(tmp_path / "p.json")
    assert "お待ちください。" in phrases.load()
    assert phrases.save("窓口へどうぞ\n\n 2番でお待ちください ") == ["窓口へどうぞ", "2番でお待ちください"]
    assert Phrases(tmp_path / "p.json").load() == ["窓口へどうぞ", "2番でお待ちください"]
    with pytest.raises(ConversationError, match="2 行目"):
        phrases.save(["はい", "あ" * 201])
    (tmp_path / "p.json").write_text("{broken", encoding="utf-8")
    assert "お待ちください。" in phrases.load()  # a broken file: the defaults, never a traceback


def test_lan_addresses_exclude_loopback_and_the_choice_is_kept(tmp_path):
    found = lan_addresses()
    assert all(usable(a["address"]) and not a["address"].startswith("127.") for a in found)
    choice = AddressChoice(tmp_path / "lan.json")
    with pytest.raises(ValueError, match="アドレスではありません"):
        choice.choose("203.0.113.77")
    assert not usable("127.0.0.1") and not usable("169.254.1.2") and usable("192.168.1.20")
    if not found:
        pytest.skip("this machine has no LAN IPv4 address")
    from captioner.core.paths import data_dir
    from web.server import viewer_url

    assert viewer_url(WebOptions(host="0.0.0.0", port=8765)) == f"http://{found[0]['address']}:8765/"  # not the host name
    kept = AddressChoice(data_dir() / "lan-address.json")
    kept.choose(found[-1]["address"])
    assert kept.best() == found[-1]["address"]
    assert viewer_url(WebOptions(host="0.0.0.0", port=8765)) == f"http://{found[-1]['address']}:8765/"  # the admin's choice


def test_translation_stage_keeps_a_replys_own_words():
    from translate.engine import CaptionTranslator
    from translate.stage import TranslationStage

    class Upper:  # a translator stand-in is fine here: the stage's bookkeeping is under test
        name = "upper"

        def load(self):
            pass

        def translate(self, sentences):
            return [s.upper() + "!" for s in sentences]

    got = []
    stage = TranslationStage(CaptionTranslator({"en": Upper(), "vi": Upper()}), [got.append])
    reply = CaptionEvent("final", INJECTED_BASE, "ja text", 0, 0, 0, committed="ja text", translations={"vi": "câu gốc"},
                         source="resident", language="vi")  # fmt: skip
    stage(reply)
    stage.close()
    assert got[-1].translations == {"vi": "câu gốc", "en": "JA TEXT!"}


def test_conversation_log_records_replies_and_corrections(tmp_path):
    from captioner.convlog.log import (
        ConversationLog,
        ConversationLogOptions,
        read_records,
    )

    log = ConversationLog(ConversationLogOptions(enabled=True, folder=str(tmp_path / "log")))
    log(CaptionEvent("final", 3, "電話は09012345678です", 0, 1, 1, committed="電話は09012345678です"))
    log(CaptionEvent("final", 3, "電話は09012345679です", 0, 1, 0, committed="x", update="correction", details={"corrected": True}))
    log(CaptionEvent("final", INJECTED_BASE, "はい", 1, 1, 0, committed="はい", source="resident", language="vi"))
    today = dt.date.today()
    records = list(read_records(tmp_path / "log", today - dt.timedelta(days=1), today + dt.timedelta(days=1)))
    assert [r["text"] for r in records] == ["電話は[電話番号]です", "はい"]  # the correction replaced it, masked
    assert records[0]["corrected"] and records[1]["source"] == "resident" and records[1]["language"] == "vi"


def test_caption_window_shows_replies_in_their_colour_and_corrections_marked(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    from display.options import DisplayOptions
    from display.theme import THEMES
    from display.window import CaptionWindow

    theme = THEMES["transparent"]
    with CaptionWindow(DisplayOptions(window_width=1280, window_height=720)) as window:
        window(event("final", 1, "ご住所は変わりましたか。", start=0, end=2))
        window(CaptionEvent("final", INJECTED_BASE, "はい", 2, 2, 0, committed="はい", source="resident", language="ja"))
        window(event("final", 2, "では、こちらにご記入ください。", start=2.5, end=4))
        window.step()
        window.render()
        colours = {d.text: d.colour for d in window.drawn if d.kind == "caption"}
        assert colours["はい"] == theme.resident
        assert len(window.board.paragraphs) == 3  # a reply is a paragraph of its own, between the clerk's
        window(CaptionEvent("final", 2, "では、この用紙にご記入ください。", 2.5, 4, 0, committed="では、この用紙にご記入ください。",
                            update="correction", details={"corrected": True}))  # fmt: skip
        window.step()
        window.render()
        colours = {d.text: d.colour for d in window.drawn if d.kind == "caption"}
        assert colours.get("では、この用紙にご記入ください。") == theme.corrected, colours
        assert not any("こちらに" in text for text in colours)


@pytest.mark.parametrize("english, japanese_part", [
    ("words.csv:3: 防府: reading 'bofu' must be hiragana or katakana, it has Latin letters (bofu)", "words.csv の 3 行目: 防府: 読み「bofu」"),
    ("words.csv:1: missing required column 読み (reading); the header row is: 表記", "必要な列 読み (reading) がありません"),
    ("words.yaml:3: duplicate key 'reading' (first at line 2); the first is used; fix it before the file can be changed",
     "項目「reading」が二回あります（最初は 2 行目）。最初のものを使います。直すまで"),
    ("upload.csv: 問題があるため何も取り込んでいません", "upload.csv: 問題があるため何も取り込んでいません"),
])  # fmt: skip
def test_admin_page_messages_are_japanese(english, japanese_part):
    from web.messages_ja import japanese

    assert japanese_part in japanese(english)


def test_reply_is_translated_into_japanese_with_an_installed_package(tmp_path):
    """A tiny real Argos package (CTranslate2 + SentencePiece, captioner.app.bench.tiny_argos) for en→ja."""
    from translate.options import TranslateOptions
    from translate.packages import PackageStore
    from captioner.app.bench.tiny_argos import build_package

    en_lines = ["hello.", "please wait.", "thank you.", "where is the office?"]
    mapping = {"hello": "こんにちは", "please": "ください", "wait": "待って", "thank": "ありがとう"}
    PackageStore([tmp_path / "installed"]).install(build_package(tmp_path / "en_ja.argosmodel", "en", "ja", en_lines, mapping))
    options = TranslateOptions(languages=["en"], packages_dir=str(tmp_path / "installed"), argos_packages=False)
    hub = CaptionHub()
    received = Received(hub)
    context = default_context(WebOptions(port=0), hub, received, options)
    server = WebServer(WebOptions(port=0), hub, conversation=context)
    server.start()
    try:
        assert call(server, "POST", "/api/reply", {"text": "hello.", "language": "en"})[0] == 200
        assert call(server, "POST", "/api/reply", {"text": "Xin chào", "language": "vi"})[0] == 200
        wait(lambda: len(received.events) == 2)
        english, vietnamese = received.events
        assert "こんにちは" in english.text and english.translations == {"en": "hello."}
        assert english.details["translated_from"] == "en" and "note" not in english.details
        assert vietnamese.text == "Xin chào" and "vi→ja の翻訳パッケージがない" in vietnamese.details["note"]
    finally:
        server.stop()


@pytest.mark.model
def test_captioner_run_wiring_sends_replies_to_every_sink_and_the_log(recognizer, eval_dir, tmp_path):
    """``captioner run``'s session: a reply posted while captions run reaches the terminal sink
    and the conversation log, masked, as the pipeline's own captions do."""
    import socket
    import threading

    from captioner.app.config import Config
    from captioner.app.session import CaptionSession
    from captioner.app.sinks import FinalsCollector
    from captioner.convlog.log import read_records
    from captioner.engine.audio import FileSource

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config()
    config.web.port = port
    config.dictionary.enabled = False
    config.conversation_log.enabled = True
    config.conversation_log.folder = str(tmp_path / "log")
    collected = FinalsCollector()
    answers = []

    class Server:  # stands for http.client against the running captioner
        port = config.web.port

    def reply() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                call(Server, "GET", "/info.json")
            except OSError:
                time.sleep(0.1)
                continue
            answers.append(call(Server, "POST", "/api/reply", {"text": "電話は09012345678です", "language": "ja"}))
            return

    thread = threading.Thread(target=reply)
    thread.start()
    source = FileSource(str(eval_dir / "d01.wav"), pace=1.0, block_ms=config.audio.block_ms)
    with CaptionSession(config, recognizer, [collected], web=True, conversation_log=True) as session:
        session.run(source)
    thread.join()
    assert answers and answers[0][0] == 200
    replies = [e for e in collected.events if e.source == "resident"]
    assert [e.text for e in replies] == ["電話は09012345678です"]
    today = dt.date.today()
    records = list(read_records(tmp_path / "log", today - dt.timedelta(days=1), today + dt.timedelta(days=1)))
    resident = [r for r in records if r.get("source") == "resident"]
    assert [r["text"] for r in resident] == ["電話は[電話番号]です"]
    assert any(r.get("source") is None for r in records)  # and the pipeline's own captions
