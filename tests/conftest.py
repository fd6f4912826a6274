"""Shared fixtures: the evaluation set beside the checkout, the real model, configs."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EVAL_DIR = Path(os.environ.get("CAPTIONER_EVAL_DIR", REPO.parent / "shared" / "eval" / "dev"))


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not (EVAL_DIR / "refs.json").is_file():
        pytest.fail(f"evaluation set not found at {EVAL_DIR} (set CAPTIONER_EVAL_DIR)")
    return EVAL_DIR


@pytest.fixture(scope="session")
def recognizer():
    """The real default model (bundled Whisper base, int8 on CPU), loaded once."""
    from captioner.engine.backends import create_recognizer
    from captioner.engine.recognizer import AsrOptions

    return create_recognizer(AsrOptions())


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """A real headless Chromium (Debian's ``chromium``, driven by Playwright) for one test module."""
    from playwright.sync_api import sync_playwright

    from tests.web_support import launch

    with sync_playwright() as p:
        launched = launch(p)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def pulse() -> Iterator:
    """A private PulseAudio server with a ``virt`` null sink whose monitor is the default source.

    Needs the Debian packages pulseaudio, pulseaudio-utils, libportaudio2 and
    libasound2-plugins; without them the tests that use it skip, except under CI (``CI`` set).
    """
    from captioner.engine.audio import refresh_devices
    from tests.pulse_support import (
        TOOLS,
        PulseServer,
        pactl,
        server_running,
        start_private_server,
        wait_for,
    )

    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        reason = (
            f"PulseAudio tools missing ({', '.join(missing)}): "
            "sudo apt-get install pulseaudio pulseaudio-utils libportaudio2 libasound2-plugins"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    if not (EVAL_DIR / "d01.wav").is_file():
        pytest.fail(f"test recording not found: {EVAL_DIR / 'd01.wav'}")
    saved = {k: os.environ.get(k) for k in ("PULSE_RUNTIME_PATH", "PULSE_STATE_PATH", "PULSE_SERVER")}
    runtime = tempfile.mkdtemp(prefix="captioner-pulse-")
    start_private_server(runtime)
    assert wait_for(server_running), "PulseAudio did not start"
    server = PulseServer(started=True, loaded_sink=False)
    server.load_sink()
    refresh_devices()  # PortAudio lists devices only when it initializes
    try:
        yield server
    finally:
        pactl("exit", check=False)
        assert wait_for(lambda: not server_running()), "PulseAudio did not exit"
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(runtime, ignore_errors=True)
        refresh_devices()


@pytest.fixture(scope="session", autouse=True)
def no_screen() -> Iterator[None]:
    """Tests never open a window on the developer's screen: `captioner run` in a subprocess falls
    back to the terminal as on a machine without one; the display tests render offscreen."""
    saved = {k: os.environ.pop(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER") if k in os.environ}
    os.environ["SDL_VIDEODRIVER"] = "x11"  # without DISPLAY this always fails (never a console or offscreen window)
    yield
    os.environ.pop("SDL_VIDEODRIVER", None)
    os.environ.update(saved)
