"""The caption window in a real X11 window (under Xvfb): the path a counter PC's desktop takes.

Needs the Debian package xvfb (``.ci/run`` installs it); without it the test skips, except
under CI (``CI`` set), where it fails.

No timing is asserted here (a busy machine would fail it): the window's speed, event → pixels
p50/p95/max, frame time, fps and idle CPU, is measured by the benchmark
``captioner bench SET_DIR --display`` (captioner/app/bench/display_probe.py), whose JSON has it under
``display.event_to_pixels_ms`` and ``display.cpu_pct_of_core``; run it under ``xvfb-run`` (or on
the counter PC's desktop) to measure a real X11 window instead of the offscreen driver.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "display"

SCRIPT = r"""
import json, sys, threading, time
from captioner.core.events import CaptionEvent
from display.options import DisplayOptions
from display.window import CaptionWindow
from display.pg import pygame

window = CaptionWindow(DisplayOptions(window_width=1280, window_height=720, fullscreen=True))
window.open()
text = "おはようございます。周南市役所の障害福祉課でございます。身体障害者手帳の交付には、一か月ほどかかります。"

sent = [0]

def speak():
    for cut in range(3, len(text), 3):
        window(CaptionEvent("partial", 1, text[:cut], 0.0, 1.0, 1.0, committed=text[: max(0, cut - 6)]))
        sent[0] += 1
        time.sleep(0.05)
    window(CaptionEvent("final", 1, text, 0.0, 5.0, 5.0, committed=text))
    sent[0] += 1
    time.sleep(0.3)

speaker = threading.Thread(target=speak)
speaker.start()
window.run(until=lambda: not speaker.is_alive())
speaker.join()
shown = lambda: "".join(item.text for item in window.drawn if item.kind == "caption")
settle = time.monotonic() + 30
window.run(until=lambda: shown().endswith("かかります。") or time.monotonic() >= settle)  # the final caption is up
frames = window.stats.frames
deadline = time.monotonic() + 1.5
window.run(until=lambda: time.monotonic() >= deadline)  # nothing arrives
window.screenshot(sys.argv[1])
print(json.dumps({
    "driver": pygame.display.get_driver(),
    "size": list(window.surface().get_size()),
    "sent": sent[0],
    "received": window.stats.events,
    "idle_redraws": window.stats.frames - frames,
    "text": shown(),
}))
window.close()
"""


def test_real_x11_window_shows_the_captions_and_draws_nothing_while_idle(tmp_path):
    if shutil.which("xvfb-run") is None:
        if os.environ.get("CI"):
            pytest.fail("xvfb-run missing: sudo apt-get install xvfb")
        pytest.skip("xvfb-run missing (sudo apt-get install xvfb)")
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")}
    shot = ARTIFACTS / "x11-fullscreen.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-c", SCRIPT, str(shot)],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["driver"] == "x11" and report["size"] == [1920, 1080]  # fullscreen on the real screen
    assert report["received"] == report["sent"] and report["text"].endswith("かかります。"), report
    assert report["idle_redraws"] == 0, report  # nothing is drawn while idle (the recognizer keeps the CPU)
    assert shot.is_file()
