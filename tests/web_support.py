"""Helpers for the browser viewer tests: a real server, a real headless Chromium, caption events."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from captioner.core.events import CaptionEvent

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "web"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
TABLET = {"width": 820, "height": 1180}


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "no Chromium: apt-get install chromium (the CI script installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def event(kind, uid, text, committed="", start=0.0, end=1.0, **kw) -> CaptionEvent:
    return CaptionEvent(kind=kind, utterance_id=uid, text=text, audio_start=start, audio_end=end,
                        emitted_at=end + 0.4, committed=committed, **kw)  # fmt: skip


def rows(page) -> list[str]:
    """The caption rows as shown, without the furigana above them."""
    return page.eval_on_selector_all(
        "#captions .row",
        "rows => rows.map(r => Array.from(r.childNodes).map(n => n.classList && n.classList.contains('rb') ? n.firstChild.textContent : n.textContent).join(''))",
    )


def caption_text(page) -> str:
    return "".join(rows(page))


def wait_for_text(page, needle: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = caption_text(page)
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not shown within {timeout}s; the page shows {text!r}")


def wait_js(page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression until it is truthy (page.evaluate works under the page's CSP,
    unlike wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {expression}")
        time.sleep(0.05)
