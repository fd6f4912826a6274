"""The caption window: pygame in the main thread, fed from the pipeline's threads.

Feeding is thread-safe and cheap: ``window(event)`` (it is a caption sink) and
``set_status()`` only store under a lock and wake the loop. ``run()`` must run in the main
thread: it sleeps until woken (or 50 ms pass, to read the keyboard), applies what arrived,
and redraws only when something changed, at most ``max_fps`` times a second. Nothing is
drawn while idle, so the speech recognizer keeps the CPU.

Keys: + / - text size, ↑ / ↓ lines, C clear, M mirror, T theme, F (F11) fullscreen,
R furigana, H help, Q (Esc) quit. Their changes are saved to the user's settings file.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from captioner.core.errors import DisplayError, DisplayUnavailable
from captioner.core.events import CaptionEvent
from display import settings as saved
from display.aside import WIDTH as ASIDE_WIDTH
from display.aside import Aside, Shown
from display.fonts import find_font
from display.furigana import Furigana
from display.geometry import fit
from display.highlights import Highlights
from display.layout import JA, BlockLayout, CaptionBoard
from display.options import LIMITS, DisplayOptions
from display.pg import pygame
from display.render import Drawn, FontBook, Painter
from display.status import NO_JAPANESE_FONT
from display.theme import THEMES

log = logging.getLogger(__name__)
POLL_S = 0.05  # keyboard and window events are read at least this often
HEADLESS_DRIVERS = ("offscreen", "dummy")
MAX_LANGUAGES = 3
HELP = "+/- 文字の大きさ  ↑/↓ 行数  C 消去  M 左右反転  T 配色  F 全画面  R ふりがな  Q 終了"


def _init_video() -> None:
    """Start SDL's video; on Linux without a desktop session try only the console (KMS/DRM).

    (Probing X11 and Wayland there only prints noise before SDL falls back to offscreen.)
    """
    console_only = (
        sys.platform.startswith("linux")
        and not os.environ.get("SDL_VIDEODRIVER")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )
    if console_only:
        os.environ["SDL_VIDEODRIVER"] = "kmsdrm"
    # Show the window's pixels directly (X11: shared-memory images) instead of through an
    # OpenGL texture: without a GPU driver that is Mesa's software GL, whose threads spent
    # ~20 ms and most of a core per frame here, taken from speech recognition.
    os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
    try:
        pygame.display.init()
        pygame.font.init()
    except pygame.error as e:
        reason = "no desktop session (DISPLAY and WAYLAND_DISPLAY are not set)" if console_only else str(e)
        raise DisplayUnavailable(f"cannot open the caption window: {reason}") from e
    finally:
        if console_only:
            del os.environ["SDL_VIDEODRIVER"]


def _changed_rects(before: list[Drawn], after: list[Drawn], bounds) -> list:
    """The canvas rectangles that differ between two frames (what was drawn, or erased)."""
    old = {(d.kind, d.rect, d.text, d.colour) for d in before}
    new = {(d.kind, d.rect, d.text, d.colour) for d in after}
    rects = [pygame.Rect(item[1]).inflate(4, 4).clip(bounds) for item in old ^ new]
    merged: list = []
    for rect in sorted((r for r in rects if r.width and r.height), key=lambda r: (r.y, r.x)):
        if merged and merged[-1].colliderect(rect.inflate(0, 2)):
            merged[-1].union_ip(rect)
        else:
            merged.append(rect)
    return merged


@dataclass
class DisplayStats:
    """What the loop measured: event → pixels latency, frame times, CPU of the loop thread."""

    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=20000))
    frame_ms: deque = field(default_factory=lambda: deque(maxlen=20000))
    flips: deque = field(default_factory=lambda: deque(maxlen=20000))  # perf_counter of each flip
    frames: int = 0
    events: int = 0

    def reset(self) -> None:
        self.latencies_ms.clear()
        self.frame_ms.clear()
        self.flips.clear()
        self.frames = self.events = 0


class CaptionWindow:
    """Shows caption events in a pygame window (see the module doc for the threading rules)."""

    def __init__(
        self,
        options: DisplayOptions,
        *,
        settings_path: Path | None = None,
        allow_headless: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = dataclasses.replace(options, translation_languages=list(options.translation_languages))
        self.settings_path = settings_path
        # Headless drivers are fine when asked for (tests, benchmark); otherwise they mean "no screen".
        self.allow_headless = (
            os.environ.get("SDL_VIDEODRIVER", "") in HEADLESS_DRIVERS if allow_headless is None else allow_headless
        )
        self.clock = clock
        self.stats = DisplayStats()
        self.board = CaptionBoard(options.paragraph_pause_s)
        self.drawn: list[Drawn] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._quit = threading.Event()
        self._inbox: list[tuple[CaptionEvent, float]] = []
        self._statuses: dict[str, tuple[str, bool, int]] = {}
        self._status_serial = 0
        self._notice: tuple[str, float] | None = None
        self._shown_status: tuple[str, bool] | None = None
        self._expected: list[str] = []
        self._waiting: list[float] = []  # arrival times of applied events not yet on screen
        self._dirty = True
        self._full = True
        self._layout_key = None
        self._last_frame = 0.0
        self._last_speech: float | None = None
        self._surface = None
        self._canvas = None
        self._fonts: FontBook | None = None
        self._furigana = Furigana()
        self.aside = Aside(seconds=options.picture_seconds)  # a registered word's picture, the phone page's QR
        self._aside_shown: Shown | None = None
        self._facts: dict[str, list[tuple[int, int]]] = {}
        self._opened = False
        self.monitor = 0

    # -- any thread ---------------------------------------------------------------------

    def __call__(self, event: CaptionEvent) -> None:
        """Caption sink: store the event and wake the loop (called from pipeline threads)."""
        with self._lock:
            self._inbox.append((event, time.perf_counter()))
        self._wake.set()

    def set_status(self, text: str | None, warning: bool = False, *, key: str = "main") -> None:
        """Show ``text`` in the status line until cleared with None (one message per ``key``)."""
        with self._lock:
            if text:
                self._status_serial += 1
                self._statuses[key] = (text, warning, self._status_serial)
            else:
                self._statuses.pop(key, None)
        self._wake.set()

    def notify(self, text: str, seconds: float = 2.5) -> None:
        """A short-lived message (key feedback, help)."""
        with self._lock:
            self._notice = (text, self.clock() + seconds)
        self._wake.set()

    def expect_translations(self, languages: list[str]) -> None:
        """Reserve room for these translation languages from the start (no resize later)."""
        with self._lock:
            self._expected = list(languages)
        self._wake.set()

    def use_highlights(self, highlights: Highlights) -> None:
        """Frame the facts of finals and show registered words' pictures (as the options say)."""
        if self.options.pictures:
            self.aside.highlights = highlights
        if self.options.marks:
            def facts(text: str) -> list[tuple[int, int]]:
                found = self._facts.get(text)
                if found is None:
                    if len(self._facts) > 500:
                        self._facts.clear()
                    found = self._facts[text] = [(f.start, f.end) for f in highlights.facts(text)]
                return found

            self.board.facts = facts
        self._wake.set()

    def show_qr(self, url: str | None) -> None:
        """Show the QR code of the resident's phone page beside the captions (None: take it down)."""
        self.aside.qr(url)
        self._wake.set()

    def request_quit(self) -> None:
        self._quit.set()
        self._wake.set()

    @property
    def quit_requested(self) -> bool:
        return self._quit.is_set()

    # -- main thread ------------------------------------------------------------------

    def open(self) -> None:
        """Open the window (raises DisplayUnavailable when there is no screen)."""
        _init_video()
        driver = pygame.display.get_driver()
        if driver in HEADLESS_DRIVERS and not self.allow_headless:
            pygame.display.quit()
            raise DisplayUnavailable(
                "cannot open the caption window: no screen (no desktop session; SDL fell back to "
                f"its {driver!r} driver)"
            )
        choice = find_font(self.options.font, self.options.bold)
        if choice.warning:
            log.warning("%s", choice.warning)
        if not choice.japanese:
            self.set_status(NO_JAPANESE_FONT, True, key="font")
        self._fonts = FontBook(choice, self.options.bold)
        log.info("caption font: %s (%s); video driver %s", choice.name, choice.path, driver)
        self._opened = True
        self._apply_mode()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Show captions until quit (key, window closed, request_quit()) or ``until()`` is true."""
        while not self._quit.is_set() and not (until is not None and until()):
            self.step(self._timeout())

    def step(self, timeout: float = 0.0) -> None:
        """One turn of the loop: wait up to ``timeout``, read input, apply events, redraw if needed."""
        if timeout > 0:
            self._wake.wait(timeout)
        self._wake.clear()
        now = self.clock()
        self._pump()
        self._take_inbox(now)
        self._tick(now)
        if self._dirty and time.perf_counter() - self._last_frame >= 1 / self.options.max_fps:
            self.render()

    def render(self) -> None:
        """Draw the current state and show it."""
        if self._surface is None:
            return
        start = time.perf_counter()
        full = self._relayout_if_needed() or self._full
        ja_rows = self._ja.rows(self.board, self.options.lines)
        blocks = []
        for language in self._languages:
            layout = self._translation_layouts[language]
            rows = layout.rows(self.board, self.options.translation_lines)
            blocks.append((language, self._translation_paths[language], rows))
        drawn = self._painter.draw(self._canvas, ja_rows, blocks, self._status_line())
        if self._aside_shown is not None:
            self._draw_aside(self._aside_shown, drawn)
        changed = None if full else _changed_rects(self.drawn, drawn, self._canvas.get_rect())
        self.drawn = drawn
        self._present(changed)
        self._full = False
        done = time.perf_counter()
        self._dirty = False
        self._last_frame = done
        self.stats.frames += 1
        self.stats.frame_ms.append((done - start) * 1000)
        self.stats.flips.append(done)
        for arrival in self._waiting:
            self.stats.latencies_ms.append((done - arrival) * 1000)
        self._waiting.clear()

    def screenshot(self, path: str | Path) -> Path:
        """Save what the window shows as a PNG."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self._surface, str(path))
        return path

    def surface(self):
        return self._surface

    def close(self) -> None:
        if self._opened:
            self._opened = False
            self._surface = None
            pygame.display.quit()

    def __enter__(self) -> CaptionWindow:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys -------------------------------------------------------------------------

    def handle_key(self, key: int, text: str = "") -> None:
        """Act on one key (also used by tests); see the module doc for the keys."""
        k = pygame
        shifted = bool(pygame.key.get_mods() & k.KMOD_SHIFT) if pygame.display.get_init() else False
        if text in ("+", "=") or key in (k.K_PLUS, k.K_EQUALS, k.K_KP_PLUS) or (key == k.K_SEMICOLON and shifted):
            self._change("chars_per_line", -1, "文字サイズ 1行 {} 字")
        elif text == "-" or key in (k.K_MINUS, k.K_KP_MINUS):
            self._change("chars_per_line", +1, "文字サイズ 1行 {} 字")
        elif key in (k.K_UP, k.K_PAGEUP):
            self._change("lines", +1, "{} 行")
        elif key in (k.K_DOWN, k.K_PAGEDOWN):
            self._change("lines", -1, "{} 行")
        elif key in (k.K_c, k.K_DELETE, k.K_BACKSPACE):
            self.board.clear()
            self._dirty = True
        elif key == k.K_m:
            self.options.mirror = not self.options.mirror
            self._changed("左右反転 " + ("オン" if self.options.mirror else "オフ"))
        elif key == k.K_t:
            names = list(THEMES)
            self.options.theme = names[(names.index(self.options.theme) + 1) % len(names)]
            self._changed(f"配色 {self.options.theme}")
        elif key in (k.K_f, k.K_F11):
            self.options.fullscreen = not self.options.fullscreen
            self._apply_mode()
            self._changed("全画面 " + ("オン" if self.options.fullscreen else "オフ"))
        elif key == k.K_r:
            self.options.furigana = not self.options.furigana
            self._changed("ふりがな " + ("オン" if self.options.furigana else "オフ"))
        elif key in (k.K_h, k.K_F1) or text == "?":
            self.notify(HELP, 6.0)
        elif key in (k.K_q, k.K_ESCAPE):
            self.request_quit()

    def _change(self, key: str, step: int, message: str) -> None:
        low, high = LIMITS[key]
        value = min(high, max(low, getattr(self.options, key) + step))
        setattr(self.options, key, value)
        self._changed(message.format(value))

    def _changed(self, message: str) -> None:
        self.notify(message)
        self._dirty = True
        if self.settings_path is not None:
            saved.save(self.options, self.settings_path)

    # -- internals ----------------------------------------------------------------------

    def _timeout(self) -> float:
        now = self.clock()
        if self._dirty:
            return max(0.0, self._last_frame + 1 / self.options.max_fps - time.perf_counter())
        timeout = POLL_S
        if self._notice:
            timeout = min(timeout, max(0.0, self._notice[1] - now))
        return timeout

    def _pump(self) -> None:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.request_quit()
            elif event.type == pygame.KEYDOWN:
                self.handle_key(event.key, getattr(event, "unicode", "") or "")
            elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
                self._surface = pygame.display.get_surface()
                self._dirty = self._full = True
            elif event.type in (pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED, pygame.WINDOWSHOWN, pygame.WINDOWRESTORED):
                self._dirty = self._full = True

    def _take_inbox(self, now: float) -> None:
        with self._lock:
            inbox, self._inbox = self._inbox, []
        for event, arrival in inbox:
            self.stats.events += 1
            try:
                changed = self.board.apply(event)
            except Exception:  # a malformed event must not take the window down
                log.exception("cannot show caption event %r", event)
                continue
            if event.display_text.strip():
                self._last_speech = now
            if event.is_final and not event.is_update and self.aside.caption(event.display_text, now):
                self._dirty = True
            if changed:
                self._dirty = True
                self._waiting.append(arrival)

    def _tick(self, now: float) -> None:
        clear_after = self.options.clear_after_s
        if clear_after and self._last_speech is not None and now - self._last_speech >= clear_after:
            self._last_speech = None
            if not self.board.empty:
                self.board.clear()
                self._dirty = True
        shown = self.aside.current(now)
        if shown != self._aside_shown:
            self._aside_shown = shown
            self._dirty = self._full = True
        with self._lock:
            if self._notice and now >= self._notice[1]:
                self._notice = None
                self._dirty = True
            status = self._status_line_locked()
        if status != self._shown_status:
            self._shown_status = status
            self._dirty = True

    def _status_line(self) -> tuple[str, bool] | None:
        with self._lock:
            return self._status_line_locked()

    def _status_line_locked(self) -> tuple[str, bool] | None:
        if self._notice:
            return self._notice[0], False
        if not self._statuses:
            return None
        text, warning, _ = max(self._statuses.values(), key=lambda s: (s[1], s[2]))
        return text, warning

    def _apply_mode(self) -> None:
        """Create or re-create the window for the monitor / fullscreen settings."""
        count = max(1, pygame.display.get_num_displays())
        monitor = self.options.monitor
        if monitor >= count:
            log.warning("display.monitor %d is out of range (%d monitor%s); using monitor 0",
                        monitor, count, "" if count == 1 else "s")
            monitor = 0
        self.monitor = monitor
        sizes = pygame.display.get_desktop_sizes() or [(self.options.window_width, self.options.window_height)]
        desktop = sizes[min(monitor, len(sizes) - 1)]
        try:
            if self.options.fullscreen:
                self._surface = pygame.display.set_mode(desktop, pygame.FULLSCREEN, display=monitor)
                pygame.mouse.set_visible(False)
            else:
                size = (self.options.window_width, self.options.window_height)
                if pygame.display.get_driver() not in HEADLESS_DRIVERS:  # an offscreen window may be any size
                    size = (min(size[0], desktop[0]), min(size[1], desktop[1]))
                self._surface = pygame.display.set_mode(size, pygame.RESIZABLE, display=monitor)
                pygame.mouse.set_visible(True)
        except pygame.error as e:
            raise DisplayError(f"cannot open the caption window on monitor {monitor}: {e}") from e
        pygame.display.set_caption("Counter captions")
        pygame.key.stop_text_input()  # keys are commands: an input method (IME) must not take them
        self._layout_key = None
        self._dirty = self._full = True

    @property
    def _languages(self) -> list[str]:
        if self.options.translation_lines <= 0:
            return []
        with self._lock:
            expected = list(self._expected)
        wanted = self.options.translation_languages or list(dict.fromkeys(expected + self.board.languages))
        return wanted[:MAX_LANGUAGES]

    def _relayout_if_needed(self) -> bool:
        """(Re)build geometry, fonts and layouts when the size or a setting changed (True if so)."""
        width, height = self._surface.get_size()
        options = self.options
        languages = self._languages
        samples = tuple(bool(self._translation_sample(language)) for language in languages)
        key = (width, height, options.rotation, options.mirror, options.lines, options.chars_per_line,
               options.furigana, options.translation_lines, tuple(languages), samples, options.theme,
               self._aside_shown is not None)
        if key == self._layout_key:
            return False
        self._layout_key = key
        if options.rotation in (90, 270):
            width, height = height, width
        geometry = fit(
            width, height, lines=options.lines, chars_per_line=options.chars_per_line,
            furigana=options.furigana, languages=len(languages), translation_rows=options.translation_lines,
        )
        fonts = self._fonts
        self._geometry = geometry
        self._canvas = pygame.Surface((width, height)) if self._transformed else self._surface
        self._painter = Painter(fonts, THEMES[options.theme], geometry)
        caption_measure = fonts.measure(fonts.caption_path, geometry.size)
        self._ja_width = geometry.line_width
        if self._aside_shown is not None:  # narrower lines: the panel beside them never covers text
            self._ja_width = max(geometry.size * 4, geometry.line_width - round(geometry.width * ASIDE_WIDTH))
        self._ja = BlockLayout(
            self._ja_width, caption_measure, channel=JA, hang=float(geometry.size),
            ruby=self._furigana if options.furigana else None,
        )
        self._translation_layouts = {}
        self._translation_paths = {}
        for language in languages:
            sample = self._translation_sample(language)
            path = fonts.language_path(language, sample) if sample else fonts.translation_path
            self._translation_paths[language] = path
            self._translation_layouts[language] = BlockLayout(
                geometry.translation_width, fonts.measure(path, geometry.translation_size),
                channel=language, hang=float(geometry.translation_size),
            )
        return True

    def _draw_aside(self, shown: Shown, drawn: list) -> None:
        """The picture or QR code right of the caption lines (after their hanging character)."""
        g, theme = self._geometry, THEMES[self.options.theme]
        x = g.pad_x + self._ja_width + g.size + g.pad_x
        box = pygame.Rect(x, g.captions_top, g.width - g.pad_x - x, g.captions_bottom - g.captions_top)
        if box.width < 16 or box.height < 16:
            return
        pad = max(2, g.pad_x // 2)
        title_size = max(10, round(g.size * 0.42))
        while title_size > 8 and self._fonts.font(self._fonts.caption_path, title_size).size(shown.title)[0] > box.width - 2 * pad:
            title_size -= 1  # the whole title fits the panel
        font = self._fonts.font(self._fonts.caption_path, title_size)
        title = self._painter.text(self._fonts.caption_path, title_size, shown.title, theme.current)
        title_h = font.get_height() if title is not None else 0
        image = self.aside.image(
            shown, (box.width - 2 * pad, box.height - title_h - 3 * pad), theme.current,
            lambda size: self._fonts.font(self._fonts.caption_path, size),
        )  # fmt: skip
        top = box.top + pad
        if image is not None:
            area = self._canvas.blit(image, (box.left + (box.width - image.get_width()) // 2, top))
            top = area.bottom + pad
        if title is not None:
            self._canvas.blit(title, (box.left + max(0, (box.width - title.get_width()) // 2), top))
        pygame.draw.rect(self._canvas, theme.older, box, width=max(1, g.size // 24), border_radius=max(2, g.size // 8))
        drawn.append(Drawn("picture", tuple(box), shown.url or (shown.picture.value if shown.picture else ""), theme.current))

    def _translation_sample(self, language: str) -> str:
        for paragraph in self.board.paragraphs:
            for utterance in paragraph.utterances:
                if utterance.translations.get(language):
                    return utterance.translations[language]
        return ""

    @property
    def _transformed(self) -> bool:
        return self.options.rotation != 0 or self.options.mirror

    def _present(self, changed: list | None) -> None:
        """Show the canvas: all of it (``changed`` None), or only the rectangles that changed."""
        if changed is None:
            if self._transformed:
                self._surface.blit(self._transform(self._canvas), (0, 0))
            pygame.display.flip()
            return
        if not changed:
            return
        if self._transformed:
            targets = []
            for rect in changed:
                target = self._to_window(rect)
                self._surface.blit(self._transform(self._canvas.subsurface(rect)), target.topleft)
                targets.append(target)
            changed = targets
        pygame.display.update(changed)

    def _transform(self, image):
        if self.options.rotation:
            image = pygame.transform.rotate(image, -self.options.rotation)  # clockwise
        if self.options.mirror:
            image = pygame.transform.flip(image, True, False)
        return image

    def _to_window(self, rect):
        """Where a canvas rectangle lands on the window after rotation and mirroring."""
        x, y, w, h = rect
        canvas_w, canvas_h = self._canvas.get_size()
        if self.options.rotation == 90:
            x, y, w, h = canvas_h - y - h, x, h, w
        elif self.options.rotation == 180:
            x, y = canvas_w - x - w, canvas_h - y - h
        elif self.options.rotation == 270:
            x, y, w, h = y, canvas_w - x - w, h, w
        if self.options.mirror:
            x = self._surface.get_width() - x - w
        return pygame.Rect(x, y, w, h)
