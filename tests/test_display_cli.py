"""`captioner run` as a user runs it: the caption window by default (offscreen here), Ctrl+C,
the terminal fallback without a screen, and --no-display."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest


def environment(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["SDL_VIDEODRIVER"] = "x11"  # no DISPLAY: no screen (never a console window on a machine with DRM)
    env["CAPTIONER_CONFIG"] = str(tmp_path / "config.yaml")  # no user settings; display settings go here too
    (tmp_path / "config.yaml").write_text("web:\n  enabled: false\n", encoding="utf-8")
    env.update(extra)
    return env


@pytest.mark.model
def test_run_shows_captions_in_the_window_until_ctrl_c(eval_dir, tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "captioner", "run", "--jsonl", "--pace", "2", "--input", str(eval_dir / "d07.wav")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment(tmp_path, SDL_VIDEODRIVER="dummy"),
    )  # fmt: skip
    events = []
    reader = threading.Thread(target=lambda: events.extend(json.loads(line) for line in process.stdout))
    reader.start()
    deadline = time.monotonic() + 120
    while not any(e["kind"] == "final" for e in events) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)
    assert process.poll() is None, "the window stays open after the file ends (Q or Ctrl+C closes it)"
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    reader.join(timeout=5)
    stderr = process.stderr.read()
    assert process.returncode == 0, stderr
    assert "caption font: BIZ UDGothic" in stderr and "video driver dummy" in stderr
    assert [e["kind"] for e in events].count("final") >= 1 and "partial" in [e["kind"] for e in events]
    assert "Traceback" not in stderr


@pytest.mark.model
def test_without_a_screen_run_falls_back_to_the_terminal(eval_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "captioner", "run", "--pace", "4", "--input", str(eval_dir / "d03.wav")],
        capture_output=True, text=True, timeout=300, env=environment(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "cannot open the caption window" in result.stderr and "--no-display" in result.stderr
    assert "北口" in result.stdout  # captions printed in the terminal instead


def test_no_display_opens_no_window(tmp_path):
    config = tmp_path / "config.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "captioner", "run", "--no-display", "--input", str(tmp_path / "missing.wav")],
        capture_output=True, text=True, timeout=120, env=environment(tmp_path, SDL_VIDEODRIVER="dummy"),
    )  # fmt: skip
    assert config.is_file()
    assert result.returncode == 5 and "missing.wav" in result.stderr
    assert "caption font" not in result.stderr  # the window was never opened


def test_bad_display_config_is_a_config_error(tmp_path):
    env = environment(tmp_path, SDL_VIDEODRIVER="dummy")
    (tmp_path / "config.yaml").write_text("display:\n  theme: neon\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "captioner", "run"], capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 2 and "display" in result.stderr and "theme" in result.stderr
