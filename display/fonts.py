"""Finding a Japanese universal-design font, by name or path, and never drawing tofu.

Preference: BIZ UDGothic (Debian ``fonts-morisawa-bizud-gothic``; Windows 10+ as
BIZ UDゴシック), then Noto Sans CJK JP, Meiryo, Yu Gothic, IPAex Gothic and other common
Japanese fonts. Characters the chosen font has no glyph for are left out, never drawn as
boxes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from display.pg import pygame

log = logging.getLogger(__name__)

JAPANESE_SAMPLE = "あア亜漢字。「」日本語"
INSTALL_HINT = (
    "install BIZ UDGothic (Debian/Ubuntu: sudo apt-get install fonts-morisawa-bizud-gothic) "
    "or set display.font to a font file"
)
WINDOWS_FONTS = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


@dataclass(frozen=True)
class Candidate:
    name: str
    match_names: tuple[str, ...]  # names for pygame.font.match_font (fontconfig / registry)
    regular: tuple[str, ...]  # known file locations
    bold: tuple[str, ...] = ()


CANDIDATES = (
    Candidate(
        "BIZ UDGothic",
        ("bizudgothic", "bizudゴシック"),
        (
            "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Regular.ttf",
            str(WINDOWS_FONTS / "BIZ-UDGothicR.ttc"),
            "/Library/Fonts/BIZUDGothic-Regular.ttf",
        ),
        (
            "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Bold.ttf",
            str(WINDOWS_FONTS / "BIZ-UDGothicB.ttc"),
            "/Library/Fonts/BIZUDGothic-Bold.ttf",
        ),
    ),
    Candidate(
        "Noto Sans CJK JP",
        ("notosanscjkjp", "notosanscjk", "notosansjp"),
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",),
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",),
    ),
    Candidate("Meiryo", ("meiryo", "メイリオ"), (str(WINDOWS_FONTS / "meiryo.ttc"),), (str(WINDOWS_FONTS / "meiryob.ttc"),)),
    Candidate("Yu Gothic", ("yugothic", "游ゴシック"), (str(WINDOWS_FONTS / "YuGothR.ttc"),), (str(WINDOWS_FONTS / "YuGothB.ttc"),)),
    Candidate("Hiragino Sans", ("hiraginosans", "ヒラギノ角ゴシック"), ("/System/Library/Fonts/ヒラギノ角ゴシック W4.ttc",), ("/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",)),
    Candidate("IPAexGothic", ("ipaexgothic",), ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",)),
    Candidate("IPAGothic", ("ipagothic",), ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",)),
    Candidate("Takao Gothic", ("takaogothic",), ("/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf",)),
    Candidate("VL Gothic", ("vlgothic",), ("/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf",)),
)
# Proportional companions for translations (Latin text reads better proportional).
PROPORTIONAL = {
    "BIZ UDGothic": Candidate(
        "BIZ UDPGothic",
        ("bizudpgothic", "bizudpゴシック"),
        ("/usr/share/fonts/truetype/bizud-gothic/BIZUDPGothic-Regular.ttf", str(WINDOWS_FONTS / "BIZ-UDGothicR.ttc")),
        ("/usr/share/fonts/truetype/bizud-gothic/BIZUDPGothic-Bold.ttf", str(WINDOWS_FONTS / "BIZ-UDGothicB.ttc")),
    ),
}
OTHER_SCRIPTS = (  # for translations the Japanese font cannot show (Hangul, Cyrillic, Vietnamese ...)
    Candidate("Noto Sans CJK JP", ("notosanscjkjp",), ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",)),
    Candidate("Noto Sans", ("notosans",), ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",)),
    Candidate("DejaVu Sans", ("dejavusans",), ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)),
    Candidate("Malgun Gothic", ("malgungothic",), (str(WINDOWS_FONTS / "malgun.ttf"),)),
    Candidate("Segoe UI", ("segoeui",), (str(WINDOWS_FONTS / "segoeui.ttf"),)),
)


@dataclass(frozen=True)
class FontChoice:
    """The font file to use; ``warning`` says what was wanted and what is used instead."""

    name: str
    path: str | None  # None: pygame's default font (no Japanese)
    japanese: bool
    warning: str | None = None


def _init() -> None:
    if not pygame.font.get_init():
        pygame.font.init()
    if not pygame.freetype.get_init():
        pygame.freetype.init()


def missing_glyphs(path: str | None, text: str) -> set[str]:
    """The characters of ``text`` (other than spaces and controls) without a glyph in the font."""
    _init()
    font = _probe_font(path)
    chars = sorted({c for c in text if not c.isspace() and c >= " "})
    if not chars:
        return set()
    metrics = font.get_metrics("".join(chars))  # None for a missing glyph (pygame.font's metrics() cannot tell)
    return {c for c, m in zip(chars, metrics) if m is None}


def _probe_font(path: str | None):
    key = path or ""
    font = _PROBES.get(key)
    if font is None:
        font = _PROBES[key] = pygame.freetype.Font(path, 16)
    return font


_PROBES: dict[str, object] = {}


def _lookup(candidate: Candidate, bold: bool) -> str | None:
    """The candidate's file: by name through the system's font list, then known places."""
    try:
        found = pygame.font.match_font(list(candidate.match_names), bold=bold)
    except Exception as e:  # fontconfig missing or odd output: fall back to known paths
        log.debug("font lookup for %s failed: %s", candidate.name, e)
        found = None
    if found and bold and not _looks_bold(found) and candidate.bold:
        found = next((p for p in candidate.bold if Path(p).is_file()), found)
    if found and Path(found).is_file():
        return found
    for path in (candidate.bold if bold else ()) + candidate.regular:
        if Path(path).is_file():
            return path
    return None


def _looks_bold(path: str) -> bool:
    name = Path(path).name.lower()
    return "bold" in name or name.endswith(("b.ttc", "b.ttf")) or "w6" in name


def _usable(path: str) -> bool:
    try:
        return not missing_glyphs(path, JAPANESE_SAMPLE)
    except (OSError, pygame.error) as e:
        log.debug("cannot use font %s: %s", path, e)
        return False


def find_font(spec: str = "", bold: bool = False) -> FontChoice:
    """The font for captions: ``spec`` (a file or a font name) if usable, else the best found."""
    _init()
    wanted = None
    if spec:
        path = Path(spec).expanduser()
        if path.is_file():
            if _usable(str(path)):
                return FontChoice(path.stem, str(path), True)
            wanted = f"display.font {spec!r} cannot be used (not a font, or no Japanese glyphs)"
        else:
            named = _known(spec) or Candidate(spec, (spec,), ())
            found = _lookup(named, bold)
            if found and _usable(found):
                return FontChoice(spec, found, True)
            wanted = f"display.font {spec!r} " + ("has no Japanese glyphs" if found else "not found")
    for candidate in CANDIDATES:
        found = _lookup(candidate, bold)
        if found and _usable(found):
            warning = f"{wanted}; using {candidate.name} ({found}) instead" if wanted else None
            return FontChoice(candidate.name, found, True, warning)
    tried = ", ".join(c.name for c in CANDIDATES)
    reason = f"{wanted}; " if wanted else ""
    return FontChoice(
        "pygame default font",
        None,
        False,
        f"{reason}no Japanese font found (looked for {tried}); using pygame's default font, which "
        f"cannot show Japanese: {INSTALL_HINT}",
    )


def _simple(name: str) -> str:
    return "".join(c.lower() for c in name if c.isalnum())


def _known(spec: str) -> Candidate | None:
    """The candidate a name refers to (BIZ UDゴシック, bizudgothic, Meiryo ...)."""
    wanted = _simple(spec)
    for candidate in CANDIDATES:
        if wanted in {_simple(candidate.name), *map(_simple, candidate.match_names)}:
            return candidate
    return None


def companion_font(choice: FontChoice, bold: bool = False) -> str | None:
    """A proportional sibling of the caption font for Latin translations, else the same file."""
    candidate = PROPORTIONAL.get(choice.name)
    if candidate is not None:
        found = _lookup(candidate, bold)
        if found and not found.lower().endswith(".ttc"):
            return found
    return choice.path


def fallback_fonts() -> list[str]:
    """Other installed fonts for scripts the caption font lacks (Hangul, Cyrillic, ...)."""
    found = [_lookup(c, False) for c in OTHER_SCRIPTS]
    return [p for p in dict.fromkeys(found) if p]


class GlyphFilter:
    """Drops characters a font cannot draw (so nothing is ever shown as a box)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._known: dict[str, bool] = {}

    def has(self, char: str) -> bool:
        known = self._known.get(char)
        if known is None:
            if char == " ":
                known = True
            elif char < " " or _invisible(char):
                known = False
            else:
                known = not missing_glyphs(self.path, char)
            self._known[char] = known
        return known

    def clean(self, text: str) -> str:
        return "".join(c for c in text if self.has(c))

    def missing(self, text: str) -> set[str]:
        return {c for c in text if not self.has(c)}


def _invisible(char: str) -> bool:
    import unicodedata

    return unicodedata.category(char) in ("Cf", "Mn", "Me", "Cs", "Co", "Cn") or 0xFE00 <= ord(char) <= 0xFE0F

