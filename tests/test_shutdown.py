"""Ctrl+C at any point of `captioner run` start-up ends the process cleanly, with no thread left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import EVAL_DIR

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.model


def start(tmp_path: Path) -> subprocess.Popen:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"web:\n  port: 0\ndictionary:\n  folder: {tmp_path / 'words'}\n"
        f"conversation_log:\n  enabled: true\n  folder: {tmp_path / 'log'}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "CAPTIONER_CONFIG": str(config), "CAPTIONER_DATA": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "captioner", "-v", "run", "--no-display", "--jsonl", "--input", str(EVAL_DIR / "session.wav")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 120) -> list[str]:
    """Read the output until a line contains ``needle``; the lines read so far."""
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if needle in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout), f"{needle!r} never came:\n{''.join(lines)}"
    return lines


@pytest.mark.parametrize(
    "moment",
    [
        "loading the speech model",  # before the model is loaded
        "Captions in a browser",  # the web server runs, the pipeline is starting
        "\"kind\": \"final\"",  # a caption has been shown: captioning
    ],
)
def test_ctrl_c_at_each_point_of_start_up_exits_cleanly(tmp_path, moment):
    process = start(tmp_path)
    try:
        seen = wait_for_line(process, moment)
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        rest, _ = process.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(seen) + rest
    assert took < 5, f"took {took:.1f} s to exit:\n{output}"
    assert process.returncode in (0, 130), output
    assert "Traceback" not in output
    assert "no thread left at exit" in output and "threads still running" not in output
