"""The browser breaks lines exactly as the caption window: linebreak.js and viewer.js run in
a real Chromium on tricky strings and event sequences and are compared with display/."""

from __future__ import annotations

import json

import pytest

from display.layout import BlockLayout, CaptionBoard
from display.linebreak import line_spans
from tests.web_support import event, launch
from web.hub import CaptionHub
from web.options import WebOptions
from web.server import WebServer

TRICKY = [
    "市役所の窓口で住民票を発行します。",
    "「住民票」の写しは、１通３００円です。",
    "ちょっと待ってください……はい、大丈夫です！",
    "受付は8:30から17:15まで、手数料は1,000円（税込）です。",
    "マイナンバーカードをお持ちですか？　お持ちでなければ、こちらへ。",
    "Please show your residence card, then wait at counter number 3.",
    "ごみの収集日は、毎週月曜日と木曜日です。ペットボトルは第２・第４水曜日。",
    "っっっっっっっっっっっっっっっっ",
    "「「「「「「「「「「」」」」」」」」」」",
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮ　ｱｲｳｴｵｶｷｸｹｺ",
    "안녕하세요 여기는 시청입니다. 주민등록증을 보여주세요.",
    "Xin chào, vui lòng đợi ở quầy số 3 — cảm ơn.",
    "郵便番号は〒747-8501、電話は0835-22-2111です。",
    "「はい」。「いいえ」、それから『申請書』（様式第３号）を……",
    "𠮷野家の𩸽定食、カ\u3099ッコいい、é\u0301t\u00e9",
    "   先頭と末尾に空白   があります   ",
    "あ" * 45,
    "supercalifragilisticexpialidocious-and-more-words-without-spaces",
]
WIDTHS = [1, 2, 3, 4.5, 5, 7, 8, 12, 16, 23.5]


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with WebServer(WebOptions(port=0), CaptionHub()) as server, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(bypass_csp=True)  # lets the test evaluate its own scripts
        page.goto(server.local_url())
        page.wait_for_function("typeof LineBreak !== 'undefined' && LineBreak.ready()")
        yield page
        browser.close()


def test_line_spans_match_python(page):
    cases = []
    for text in TRICKY:
        for width in WIDTHS:
            cases.append({"text": text, "width": width, "protect": 0, "noBreak": []})
            cases.append({"text": text, "width": width, "protect": min(len(text), 9), "noBreak": []})
            cases.append({"text": text, "width": width, "protect": 0, "noBreak": [2, 3, 7]})
    got = page.evaluate(
        """cases => cases.map(c => LineBreak.lineSpans(c.text, c.width,
            {protect: c.protect, noBreak: new Set(c.noBreak)}))""",
        cases,
    )
    mismatches = []
    for case, spans in zip(cases, got):
        expected = [list(s) for s in line_spans(case["text"], case["width"], protect=case["protect"], no_break=set(case["noBreak"]))]
        if spans != expected:
            mismatches.append((case, spans, expected))
    assert not mismatches, mismatches[:3]
    assert len(cases) > 500


def test_cell_widths_match_python(page):
    from display.linebreak import cell_width

    sample = "".join(chr(c) for c in range(0x20, 0x3100) if not 0xD800 <= c <= 0xDFFF) + "𠮷𩸽\u3099\u200b"
    js = page.evaluate("s => Array.from(s).map(c => LineBreak.cellWidth(c))", sample)
    assert js == [cell_width(c) for c in sample]


def test_whole_layout_matches_the_caption_window(page):
    """The same event sequence through display.layout and through viewer.js, row for row."""
    events = []
    script = [
        (1, 0.0, ["市役所の", "市役所の窓口で住民票", "市役所の窓口で住民票を発行します"], "市役所の窓口で住民票を発行します。"),
        (2, 3.5, ["本人確認", "本人確認書類として、運転免許証"], "本人確認書類として、運転免許証かマイナンバーカードをお願いします。"),
        (3, 10.0, ["手数料は", "手数料は1,000円"], "手数料は1,000円です。"),
        (4, 11.0, ["「はい」。", "「はい」。それでは『申請書』に"], "「はい」。それでは『申請書』にご記入ください……"),
    ]
    for uid, start, partials, final in script:
        committed = ""
        for k, text in enumerate(partials):
            events.append(event("partial", uid, text, committed, start=start, end=start + 1 + k))
            committed = text if k else ""
        events.append(event("final", uid, final, start=start, end=start + 1 + len(partials)))
    events.append(event("final", 3, "手数料は1,000円です。", start=10.0, end=12.0, translations={"en": "The fee is 1,000 yen."}))

    hub = CaptionHub(history=50)
    messages = []
    queue_state = {}
    for e in events:
        state = hub._apply(e)  # the messages the server would send
        messages.append(state.message()["u"] if state else None)
        queue_state[e.utterance_id] = state

    for width in (7, 11, 16):
        board = CaptionBoard()
        layout = BlockLayout(width)
        expected = []
        for e in events:
            board.apply(e)
            expected.append([r.text for r in layout.rows(board, 30)])
        got = page.evaluate(
            """([messages, width]) => {
                const v = window.__viewer, board = new v.Board(), layout = new v.BlockLayout(width, "ja", false);
                return messages.map(m => {
                    if (m) board.apply(m);
                    return layout.rows(board, 30).map(r => r.content ?
                        r.content.chars.slice(r.a, r.b).join("").replace(/ +$/, "") : "");
                });
            }""",
            [json.loads(json.dumps(messages, ensure_ascii=False)), width],
        )
        assert got == expected, f"width {width}"
