"""Caption window settings (``display:`` in the config). Pure: importing this needs no pygame."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from display.theme import THEMES

ROTATIONS = (0, 90, 180, 270)
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
# What the live keys change; saved to the user's display settings file.
LIVE_KEYS = ("chars_per_line", "lines", "mirror", "theme", "fullscreen", "furigana")
LIMITS = {"chars_per_line": (6, 40), "lines": (1, 8)}


@dataclass
class DisplayOptions:
    """Where and how captions are drawn."""

    enabled: bool = True  # false: terminal output, as with --no-display
    monitor: int = 0  # which monitor (0 = the first)
    fullscreen: bool = False
    window_width: int = 1280  # window size when not fullscreen (pixels)
    window_height: int = 720
    rotation: int = 0  # degrees clockwise: 0, 90, 180 or 270 (a panel mounted sideways)
    mirror: bool = False  # flip left-right, for a panel read from its back
    theme: str = "transparent"  # transparent (black = see-through), light, yellow
    font: str = ""  # "" = best installed (BIZ UDGothic, Noto Sans CJK JP, Meiryo, ...); or a name or a file
    bold: bool = True  # bold strokes read better through an acrylic partition
    lines: int = 3  # Japanese caption lines on screen
    chars_per_line: int = 16  # text is sized so a line holds about this many full-width characters
    furigana: bool = False  # readings above kanji
    translation_lines: int = 2  # lines per translation language (0 = do not show translations)
    translation_languages: list[str] = field(default_factory=list)  # [] = every language the events carry
    paragraph_pause_s: float = 3.0  # a pause this long starts a new paragraph (new line)
    clear_after_s: float = 60.0  # clear the screen after this long without speech (0 = never)
    behind_after_s: float = 4.0  # status line when captions trail speech by more than this (0 = off)
    max_fps: int = 60  # redraws are only made when something changes; this caps bursts
    marks: bool = True  # a frame around amounts, dates, times, numbers and registered words in finals
    pictures: bool = True  # a registered word's picture beside the captions (dictionary `picture:`)
    picture_seconds: float = 12.0  # how long a picture stays

    def validate(self) -> None:
        if self.monitor < 0:
            raise ValueError(f"monitor must be 0 or more, got {self.monitor}")
        if not (160 <= self.window_width <= 16384 and 90 <= self.window_height <= 16384):
            raise ValueError("window_width must be 160..16384 and window_height 90..16384")
        if self.rotation not in ROTATIONS:
            raise ValueError(f"rotation must be 0, 90, 180 or 270, got {self.rotation}")
        if self.theme not in THEMES:
            raise ValueError(f"theme must be one of {', '.join(THEMES)}, got {self.theme!r}")
        for key, (low, high) in LIMITS.items():
            if not low <= getattr(self, key) <= high:
                raise ValueError(f"{key} must be between {low} and {high}, got {getattr(self, key)}")
        if not 0 <= self.translation_lines <= 4:
            raise ValueError(f"translation_lines must be between 0 and 4, got {self.translation_lines}")
        for lang in self.translation_languages:
            if not LANGUAGE.match(lang):
                raise ValueError(f"translation_languages: {lang!r} is not a language code (en, zh, pt-BR, ...)")
        if not 0.5 <= self.paragraph_pause_s <= 600:
            raise ValueError(f"paragraph_pause_s must be between 0.5 and 600, got {self.paragraph_pause_s}")
        if self.clear_after_s < 0 or self.behind_after_s < 0:
            raise ValueError("clear_after_s and behind_after_s must be 0 (off) or more")
        if not 10 <= self.max_fps <= 240:
            raise ValueError(f"max_fps must be between 10 and 240, got {self.max_fps}")
        if not 1 <= self.picture_seconds <= 600:
            raise ValueError(f"picture_seconds must be between 1 and 600, got {self.picture_seconds}")
