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
