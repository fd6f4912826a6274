"""Display measurements for ``captioner bench SET_DIR --display``.

The replay runs with the caption window as one more sink: the pipeline in a thread, the
window's loop in the main thread (as in ``captioner run``), rendering offscreen (SDL's dummy
driver) unless a screen is available. Measured:

- event → pixels: from an event's arrival at the window's sink to the end of the flip that
  shows it (p50 / p95 / max, ms);
- frame time, and frames per second while the text changes as fast as it can (synthetic
  partials every 5 ms for 3 s; redraws are capped at ``max_fps``);
- CPU of the display loop's thread, in % of one core: while captioning the session, during
  the non-speech replay, and idle (nothing arriving) for a few seconds; and of the whole
  process while idle (after the replays, so any helper thread of the video driver shows).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from captioner.core import metrics
from captioner.core.events import CaptionEvent
from display.options import DisplayOptions

STRESS_TEXT = "おはようございます。周南市役所の障害福祉課でございます。身体障害者手帳の交付には、一か月ほどかかります。"


class DisplayProbe:
    """The caption window driving a benchmark replay, with its measurements."""

    def __init__(self, options: DisplayOptions, size: tuple[int, int] = (1920, 1080)) -> None:
        from display.window import CaptionWindow

        headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if headless and not os.environ.get("SDL_VIDEODRIVER"):
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        self.options = DisplayOptions(**{**vars(options), "fullscreen": False, "window_width": size[0], "window_height": size[1]})
        self.window = CaptionWindow(self.options, allow_headless=True)
        self.window.open()
        self.report: dict[str, Any] = {}
        self._cpu: dict[str, float] = {}

    def run(self, session, source, label: str = "captioning"):
        """``session.run(source)`` in a thread while the window shows its events; returns its stats."""
        outcome: dict[str, Any] = {}
        started: list = []  # the pipeline, once it runs (to stop it if the window closes first)

        def work() -> None:
            try:
                outcome["stats"] = session.run(source, on_start=started.append)
            except BaseException as e:  # re-raised below, in the caller's thread
                outcome["error"] = e

        thread = threading.Thread(target=work, name="bench-pipeline")
        cpu, wall = time.thread_time(), time.perf_counter()
        thread.start()
        try:
            self.window.run(until=lambda: not thread.is_alive())
        finally:
            if thread.is_alive() and started:
                started[0].stop()
            thread.join()
        self._cpu[label] = 100 * (time.thread_time() - cpu) / max(time.perf_counter() - wall, 1e-9)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["stats"]

    def measure(self, idle_s: float = 5.0, stress_s: float = 3.0) -> dict[str, Any]:
        """Idle CPU and fps under a flood of partials; returns the whole display report."""
        stats = self.window.stats
        latencies, frames_ms = list(stats.latencies_ms), list(stats.frame_ms)
        events, frames = stats.events, stats.frames
        deadline = time.monotonic() + idle_s
        cpu, process, wall = time.thread_time(), time.process_time(), time.perf_counter()
        idle_frames = stats.frames
        self.window.run(until=lambda: time.monotonic() >= deadline)
        wall = time.perf_counter() - wall
        self._cpu["idle"] = 100 * (time.thread_time() - cpu) / wall
        # The whole process while idle (speech recognition has finished): helper threads of
        # the video driver, if any, count too.
        self._cpu["idle_whole_process"] = 100 * (time.process_time() - process) / wall
        idle_frames = stats.frames - idle_frames
        fps = self._stress(stress_s)
        self.report = {
            "driver": self._driver(),
            "size": list(self.window.surface().get_size()),
            "font": self.window._fonts.choice.name,
            "caption_px": self.window._geometry.size,
            "events": events,
            "frames": frames,
            "event_to_pixels_ms": _summary(latencies),
            "frame_ms": _summary(frames_ms),
            "fps_text_changing": round(fps, 1),
            "max_fps": self.options.max_fps,
            "cpu_pct_of_core": {k: round(v, 2) for k, v in self._cpu.items()},
            "idle_redraws": idle_frames,
        }
        return self.report

    def close(self) -> None:
        self.window.close()

    def _stress(self, seconds: float) -> float:
        stop = time.perf_counter() + seconds
        text = STRESS_TEXT * 2

        def flood() -> None:
            i = 0
            while time.perf_counter() < stop:
                i += 1
                cut = 10 + i % (len(text) - 10)
                self.window(CaptionEvent("partial", 10_000, text[:cut], 0.0, 1.0, 1.0, committed=text[: max(0, cut - 8)]))
                time.sleep(0.005)

        feeder = threading.Thread(target=flood, name="bench-flood")
        frames, started = self.window.stats.frames, time.perf_counter()
        feeder.start()
        self.window.run(until=lambda: not feeder.is_alive())
        feeder.join()
        return (self.window.stats.frames - frames) / (time.perf_counter() - started)

    @staticmethod
    def _driver() -> str:
        from display.pg import pygame

        return pygame.display.get_driver()


def _summary(values: list[float]) -> dict[str, float | None]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 2)

    return {
        "p50": r(metrics.percentile(values, 50)),
        "p95": r(metrics.percentile(values, 95)),
        "max": r(max(values) if values else None),
    }
