"""One caption board: a recorded event sequence (tests/data/caption_events.json: a dictionary
correction, a translation, a late partial, a resident's button and reply, a clerk's correction
of a final, an empty final) through the caption window's board (captioner.core.lines under
display.layout) and through a real server to viewer.js in a real Chromium: after every event,
the same paragraphs, texts, committed parts, colours and language channels."""

from __future__ import annotations

import json
from pathlib import Path

from captioner.core.events import CaptionEvent
from captioner.core.lines import CaptionLines
from display.layout import CaptionBoard
from tests.web_support import wait_js
from web.hub import CaptionHub
from web.options import WebOptions
from web.server import WebServer

EVENTS = Path(__file__).parent / "data" / "caption_events.json"
CHANNELS = ("ja", "en", "vi")

JS_BOARD = """() => {
    const v = window.__viewer;
    return {
        languages: v.state.languages,
        paragraphs: v.board.paragraphs.map(p => ({
            ids: p.utterances.map(u => u.id),
            channels: Object.fromEntries(%s.map(ch => {
                const c = v.board.paragraphText(p, ch);
                return [ch, {text: c.chars.join(""), committed: c.committed, newest_from: c.newestFrom,
                             complete: c.complete, marks: c.marks}];
            })),
        })),
    };
}""" % json.dumps(CHANNELS)


def recorded() -> list[CaptionEvent]:
    return [CaptionEvent(**e) for e in json.loads(EVENTS.read_text(encoding="utf-8"))]


def python_board(board: CaptionBoard) -> dict:
    paragraphs = []
    for paragraph in board.paragraphs:
        channels = {}
        for channel in CHANNELS:
            c = board.paragraph_text(paragraph, channel)
            channels[channel] = {"text": c.text, "committed": c.committed, "newest_from": c.newest_from,
                                 "complete": c.complete, "marks": [list(m) for m in c.marks]}  # fmt: skip
        paragraphs.append({"ids": [u.id for u in paragraph.utterances], "channels": channels})
    return {"languages": list(board.languages), "paragraphs": paragraphs}


def test_the_recording_has_what_the_boards_must_agree_on():
    events = recorded()
    assert {e.update for e in events} == {None, "translation", "correction"}
    assert any(e.source == "resident" and e.translations for e in events)
    assert any(e.corrected_text and e.corrected_text != e.text for e in events)
    lines = CaptionLines()
    for e in events:
        lines.apply(e)
    assert lines.languages == ["en"]  # the clerk's translations open a channel, a reply's own words do not
    assert lines.get(1).corrected and lines.get(1).text == "防府市役所、市民課の窓口です。"
    assert lines.get(2).text == "住民票の写しですね。"  # the late partial left the final alone
    assert lines.get(7).gone


def test_viewer_js_keeps_the_same_board_as_the_caption_window(browser):
    events = recorded()
    hub = CaptionHub()
    counted = CaptionHub()  # the same events offline: the sequence number the viewer must reach
    board = CaptionBoard()
    with WebServer(WebOptions(port=0), hub) as server:
        page = browser.new_page()
        page.goto(server.local_url())
        wait_js(page, "window.__viewer && window.__viewer.state.live")
        for number, e in enumerate(events):
            hub.sink(e)
            counted.publish(e)
            board.apply(e)
            seq = json.loads(counted.hello(False))["seq"]
            wait_js(page, f"window.__viewer.state.lastSeq >= {seq}")
            assert page.evaluate(JS_BOARD) == python_board(board), f"after event {number}: {e}"
        final = python_board(board)
        assert [p["ids"] for p in final["paragraphs"]] == [[1, 2], [3], [4], [5, 6, 8]]
        page.close()
