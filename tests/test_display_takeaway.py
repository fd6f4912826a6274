"""The caption window (pygame, SDL offscreen) with a registered word's picture beside the
captions (never over them, black kept see-through), facts framed, and the phone page's QR code.

Screenshots go to /work/takeaway-shots/ when that folder exists, else test-artifacts/display/."""

from __future__ import annotations

from pathlib import Path

import pytest

from captioner.core.events import CaptionEvent
from dictionary.store import load_folder
from display.highlights import Highlights
from display.options import DisplayOptions
from tests.takeaway_support import Clock, dictionary_folder

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "display"
SHOTS = Path("/work/takeaway-shots") if Path("/work/takeaway-shots").is_dir() else ARTIFACTS
TEXT = ("マイナンバーカードの再発行は、手数料が八百円です。", "受け取りは7月9日の午後2時から、市民課の3番窓口です。")


@pytest.fixture(autouse=True)
def offscreen(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "offscreen")


@pytest.fixture
def window(tmp_path):
    from display.window import CaptionWindow

    folder = dictionary_folder(tmp_path)
    entries = load_folder(folder).entries
    clock = Clock()
    shown = CaptionWindow(DisplayOptions(window_width=1280, window_height=720, lines=5), settings_path=tmp_path / "s.yaml", clock=clock)
    shown.open()
    shown.use_highlights(Highlights(lambda: entries, folder))
    shown.clock_for_test = clock
    yield shown
    shown.close()


def final(uid, text, start):
    return CaptionEvent("final", uid, text, start, start + 2, start + 2.4, committed=text)


def feed(window, *events):
    for event in events:
        window(event)
    window.step()
    window.render()


def overlaps(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def test_a_picture_shows_beside_the_captions_without_covering_them(window):
    feed(window, final(1, TEXT[0], 0.0), final(2, TEXT[1], 2.5))
    kinds = {d.kind for d in window.drawn}
    assert "picture" in kinds, kinds
    [panel] = [d for d in window.drawn if d.kind == "picture"]
    text = [d for d in window.drawn if d.kind in ("caption", "ruby", "frame")]
    shown = "".join(d.text for d in window.drawn if d.kind == "caption").replace(" ", "")
    assert "".join(TEXT).endswith(shown) and len(shown) > len(TEXT[1])  # the newest lines, whole
    assert not any(overlaps(panel.rect, d.rect) for d in text), "the picture covers caption text"
    assert len([d for d in window.drawn if d.kind == "frame"]) >= 5  # カード, 八百円, 7月9日, 午後2時, 市民課, 3番窓口
    surface = window.surface()
    x, y, w, h = panel.rect
    assert surface.get_at((x + w // 2, y + h - 4))[:3] == (0, 0, 0)  # the panel's own background stays see-through
    window.screenshot(SHOTS / "window-picture.png")

    window.clock_for_test.now += 13  # the picture goes after a while; the lines widen again
    window.step()
    window.render()
    assert "picture" not in {d.kind for d in window.drawn}


def test_the_phone_pages_qr_code_shows_beside_the_captions(window):
    feed(window, final(1, "本日の手続きは以上です。", 0.0))
    window.show_qr("http://192.168.1.10:8765/t?k=abcdefghijklmnopqrstuvwx")
    window.step()
    window.render()
    [panel] = [d for d in window.drawn if d.kind == "picture"]
    assert panel.text.startswith("http://")
    assert not any(overlaps(panel.rect, d.rect) for d in window.drawn if d.kind == "caption")
    window.screenshot(SHOTS / "window-qr.png")
    window.show_qr(None)
    window.step()
    window.render()
    assert "picture" not in {d.kind for d in window.drawn}


def test_marks_off_draws_no_frames(tmp_path):
    from display.window import CaptionWindow

    shown = CaptionWindow(DisplayOptions(window_width=960, window_height=540, marks=False, pictures=False), settings_path=tmp_path / "s.yaml")
    shown.open()
    try:
        shown.use_highlights(Highlights(lambda: []))
        feed(shown, final(1, "手数料は八百円です。", 0.0))
        assert {d.kind for d in shown.drawn} & {"frame", "picture"} == set()
    finally:
        shown.close()
