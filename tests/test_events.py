import dataclasses
import json

from captioner.core.events import CaptionEvent


def test_event_is_frozen_and_serializes_to_one_json_line():
    event = CaptionEvent("partial", 3, "徳山駅の", 1.2, 2.5, 2.9, committed="徳山")
    assert event.tentative == "駅の"
    line = event.to_json()
    assert "\n" not in line
    data = json.loads(line)
    assert data["kind"] == "partial" and data["text"] == "徳山駅の" and data["utterance_id"] == 3
    try:
        event.text = "x"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("CaptionEvent must be frozen")


def test_later_stages_replace_fields():
    event = CaptionEvent("final", 1, "豊富市", 0.0, 1.0, 1.4, committed="豊富市")
    corrected = dataclasses.replace(event, corrected_text="防府市")
    assert corrected.display_text == "防府市" and event.display_text == "豊富市"
