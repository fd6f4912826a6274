"""The tablet registry (web/tablets.py) on its own: kinds, the conversation key, the cap."""

from __future__ import annotations

import asyncio

from web import tablets
from web.hub import CaptionHub
from web.tablets import COUNTER, ENDED, GUEST, OPEN, Tablets


def test_the_end_of_a_conversation_rotates_the_key_and_closes_the_phones_only():
    registry = Tablets(CaptionHub(), "setup-key")
    key = registry.key
    phone, counter = registry.add(GUEST, "192.168.1.40"), registry.add(COUNTER, "192.168.1.20")
    phone_queue, counter_queue = asyncio.Queue(), asyncio.Queue()
    phone.queues.add(phone_queue)
    counter.queues.add(counter_queue)
    registry.conversation_ended("e-1")
    assert registry.key != key
    assert phone_queue.get_nowait() == ENDED and counter_queue.empty()
    assert registry.of_token(phone.token) is None and registry.of_token(counter.token) is counter
    assert registry.of_token(phone.token, ended_guest=True) is phone  # its survey only
    assert registry.may_answer(phone, "e-1") and not registry.may_answer(phone, "e-2")
    assert [t["id"] for t in registry.listing()] == [counter.id]
    registry.conversation_ended("e-2")  # the conversation after: the phone is forgotten
    assert registry.of_token(phone.token, ended_guest=True) is None


def test_without_a_pin_every_viewer_is_open_and_nothing_rotates():
    registry = Tablets(CaptionHub())
    viewer = registry.add(OPEN, "127.0.0.1")
    viewer.queues.add(asyncio.Queue())
    registry.conversation_ended("e-1")
    assert registry.key == "" and registry.of_token(viewer.token) is viewer


def test_the_registry_is_bounded_and_forgets_disconnected_phones_first(monkeypatch):
    monkeypatch.setattr(tablets, "MAX_TABLETS", 3)
    registry = Tablets(CaptionHub(), "setup-key")
    connected = registry.add(GUEST, "a")
    connected.queues.add(asyncio.Queue())
    counter = registry.add(COUNTER, "b")
    gone = registry.add(GUEST, "c")
    newcomer = registry.add(GUEST, "d")  # the disconnected phone made room
    newcomer.queues.add(asyncio.Queue())
    assert registry.of_token(gone.token) is None and registry.of_token(counter.token) is counter
    assert registry.add(GUEST, "e") is None  # full of connected phones and counter tablets


def test_dropped_counter_tablets_are_kept_for_the_same_setup_key_only(tmp_path):
    kept = tmp_path / "data" / tablets.DROPPED_FILE
    registry = Tablets(CaptionHub(), "setup-key", kept)
    lost, other = registry.add(COUNTER, "192.168.1.20"), registry.add(COUNTER, "192.168.1.21")
    phone = registry.add(GUEST, "192.168.1.40")
    assert registry.drop(phone.id) and not kept.exists()  # a phone's token never outlives the server anyway
    assert registry.drop(lost.id)
    assert kept.stat().st_mode & 0o777 == 0o600
    restarted = Tablets(CaptionHub(), "setup-key", kept)
    assert restarted.of_token(lost.token) is None and restarted.of_token(other.token).id == other.id
    assert Tablets(CaptionHub(), "another-pins-key", kept).of_token(lost.token) is None  # another PIN: not its token anyway
    new_pin = Tablets(CaptionHub(), "another-pins-key", kept)
    assert new_pin.of_token(new_pin._signed(lost.id)).id == lost.id  # the list was the old PIN's: void under the new one


def test_an_unreadable_dropped_list_is_a_warning_and_an_empty_list(tmp_path, caplog):
    kept = tmp_path / tablets.DROPPED_FILE
    registry = Tablets(CaptionHub(), "setup-key", kept)
    counter = registry.add(COUNTER, "192.168.1.20")
    for broken in (b"{not json", b"\xff\xfe", b'{"dropped": "abc"}', b"[1, 2]"):
        kept.write_bytes(broken)
        caplog.clear()
        restarted = Tablets(CaptionHub(), "setup-key", kept)
        assert restarted.of_token(counter.token).id == counter.id
        assert f"{kept}: cannot read the dropped counter tablets" in caplog.text and "change web.viewer_pin" in caplog.text
    assert restarted.drop(counter.id)  # the next drop writes a good file again
    assert Tablets(CaptionHub(), "setup-key", kept).of_token(counter.token) is None


def test_a_dropped_list_that_cannot_be_written_keeps_the_tablet_out_until_the_restart(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    registry = Tablets(CaptionHub(), "setup-key", blocked / tablets.DROPPED_FILE)  # its folder is a file
    counter = registry.add(COUNTER, "192.168.1.20")
    assert registry.drop(counter.id) and registry.of_token(counter.token) is None
    assert "cannot keep the dropped counter tablets" in caplog.text
