"""The viewer hub: utterance state, sequence numbers, late join and resume without duplicates."""

from __future__ import annotations

import asyncio
import json

from captioner.core.events import CaptionEvent
from captioner.core.lines import event_texts
from web.hub import CaptionHub


def event(kind, uid, text, committed="", start=0.0, end=1.0, **kw) -> CaptionEvent:
    return CaptionEvent(kind=kind, utterance_id=uid, text=text, audio_start=start, audio_end=end,
                        emitted_at=end + 0.4, committed=committed, **kw)  # fmt: skip


def drain(queue) -> list[dict]:
    out = []
    while not queue.empty():
        out.append(json.loads(queue.get_nowait()))
    return out


def test_late_viewer_gets_the_newest_state_of_recent_utterances_only():
    async def run():
        hub = CaptionHub(history=3)
        for uid in range(1, 6):
            hub.publish(event("partial", uid, f"発話{uid}の途中", f"発話{uid}", start=uid * 5))
            hub.publish(event("final", uid, f"発話{uid}です。", start=uid * 5))
        queue, backlog, reset = hub.subscribe()
        return [json.loads(m) for m in backlog], reset

    backlog, reset = asyncio.run(run())
    assert reset  # a new viewer (no epoch) starts from scratch
    assert [m["u"]["id"] for m in backlog] == [3, 4, 5]
    assert all(m["u"]["final"] and m["u"]["text"] == f"発話{m['u']['id']}です。" for m in backlog)
    seqs = [m["seq"] for m in backlog]
    assert seqs == sorted(seqs)


def test_resume_with_since_sends_only_what_changed_and_never_twice():
    async def run():
        hub = CaptionHub()
        queue, _, _ = hub.subscribe(0, "")
        hub.publish(event("partial", 1, "住民票の", "住民票"))
        hub.publish(event("final", 1, "住民票の写しです。"))
        seen = drain(queue)
        last = seen[-1]["seq"]
        hub.unsubscribe(queue)  # connection drops; captions go on
        hub.publish(event("partial", 2, "こちらに", "", start=2))
        hub.publish(event("partial", 2, "こちらにご記入", "こちらに", start=2))
        queue2, backlog, reset = hub.subscribe(last, hub.epoch)
        hub.publish(event("final", 2, "こちらにご記入ください。", start=2))
        live = drain(queue2)
        return seen, [json.loads(m) for m in backlog], live, reset

    seen, backlog, live, reset = asyncio.run(run())
    assert not reset
    assert [m["u"]["id"] for m in backlog] == [2]  # utterance 1 is not sent again
    assert backlog[0]["u"]["text"] == "こちらにご記入" and backlog[0]["u"]["committed"] == "こちらに"
    all_seqs = [m["seq"] for m in seen + backlog + live]
    assert len(all_seqs) == len(set(all_seqs)) and all_seqs == sorted(all_seqs)
    assert live[0]["u"]["final"]


def test_other_server_run_resets_the_viewer():
    async def run():
        hub = CaptionHub()
        hub.publish(event("final", 1, "はい。"))
        return hub.subscribe(500, "another-epoch")

    _, backlog, reset = asyncio.run(run())
    assert reset and len(backlog) == 1


def test_translation_update_and_stale_partial_after_final():
    async def run():
        hub = CaptionHub()
        queue, _, _ = hub.subscribe()
        final = event("final", 7, "防府市役所です。")
        hub.publish(final)
        hub.publish(event("partial", 7, "防府市", "防府"))  # late partial: ignored for the text
        hub.publish(CaptionEvent(**{**final.__dict__, "translations": {"en": "This is Hofu City Hall."},
                                    "details": {"translation": {"en": {}}}}))  # fmt: skip
        return drain(queue), hub.languages

    messages, languages = asyncio.run(run())
    assert messages[-1]["u"]["text"] == "防府市役所です。" and messages[-1]["u"]["final"]
    assert messages[-1]["u"]["tr"] == {"en": "This is Hofu City Hall."}
    assert messages[-1]["u"]["trf"] == ["en"]
    assert languages == ["en"]


def test_corrected_text_is_shown_and_control_characters_cleaned():
    e = event("partial", 1, "ほうふしの\nまど", "ほうふしの", corrected_text="防府市の\nまど", corrected_committed="防府市の")
    assert event_texts(e) == ("防府市の まど", "防府市の")


def test_ruby_is_computed_for_the_text_and_dictionary_readings_win():
    from dictionary.analyzer import shared_analyzer
    from web.hub import furigana_ranges

    ruby = furigana_ranges(shared_analyzer())
    ranges = ruby("十六島の海苔", {"十六島": "うっぷるい"})
    assert (0, 3, "うっぷるい") in ranges
    assert any(r[2] == "のり" for r in ranges)


def test_slow_viewer_is_cut_off_instead_of_growing_memory():
    from web import hub as hub_module

    async def run():
        hub = CaptionHub()
        queue, _, _ = hub.subscribe()
        for i in range(hub_module.QUEUE_LIMIT + 5):
            hub.publish(event("partial", 1, f"テキスト{i}", ""))
        return hub.viewer_count, hub.dropped_viewers, queue

    count, dropped, queue = asyncio.run(run())
    assert count == 0 and dropped == 1
    assert queue.qsize() <= hub_module.QUEUE_LIMIT


def test_sink_never_blocks_and_is_a_no_op_without_a_loop():
    hub = CaptionHub()
    hub.sink(event("final", 1, "はい"))  # no server: dropped quietly
    assert hub.viewer_count == 0


def test_a_caption_that_cannot_be_encoded_never_reaches_a_viewer():
    """Issue 27: a lone surrogate in one message made every viewer's WebSocket fail (and every new
    viewer's backlog) until ten more captions pushed it out of the history."""

    async def run():
        hub = CaptionHub()
        queue, _, _ = hub.subscribe()
        hub.publish(event("final", 1, "はい\ud800"))
        hub.publish(event("final", 2, "次の方どうぞ。"))
        _, backlog, _ = hub.subscribe()
        return drain(queue), backlog

    live, backlog = asyncio.run(run())
    assert [m["u"]["id"] for m in live] == [2]
    assert all(m.encode("utf-8") for m in backlog) and len(backlog) == 1
