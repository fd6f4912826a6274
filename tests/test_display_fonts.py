"""Fonts: BIZ UDGothic found by name, a path or a name from the config, a clear fallback, no tofu."""

from __future__ import annotations

from pathlib import Path

import pytest

from display import fonts
from display.fonts import GlyphFilter, find_font, missing_glyphs


def references(eval_dir: Path) -> str:
    rows = (eval_dir / "utterances.tsv").read_text(encoding="utf-8").splitlines()
    refs = "".join(row.split("\t")[1] for row in rows if row.strip())
    import json

    return refs + "".join(item["text"] for item in json.loads((eval_dir / "refs.json").read_text(encoding="utf-8")))


def test_universal_design_font_is_preferred():
    choice = find_font()
    assert choice.japanese and choice.warning is None
    assert choice.name == "BIZ UDGothic", f"install fonts-morisawa-bizud-gothic (found {choice.name})"
    assert Path(find_font(bold=True).path).name == "BIZUDGothic-Bold.ttf"


@pytest.mark.parametrize("bold", [False, True])
def test_every_character_of_the_dev_set_has_a_glyph(eval_dir, bold):
    choice = find_font(bold=bold)
    text = references(eval_dir)
    assert len(set(text)) > 150
    assert missing_glyphs(choice.path, text) == set(), "these would be drawn as boxes"


@pytest.mark.parametrize("name", ["BIZ UDGothic", "BIZ UDゴシック", "bizudgothic", "Noto Sans CJK JP"])
def test_found_by_name(name):
    choice = find_font(name)
    if name.startswith("Noto") and choice.warning:
        pytest.skip("Noto Sans CJK is not installed here")
    assert choice.warning is None and choice.japanese and Path(choice.path).is_file()


def test_found_by_path():
    path = find_font().path
    choice = find_font(path)
    assert choice.path == path and choice.warning is None


def test_missing_font_names_the_fallback():
    choice = find_font("Comic Gothic Deluxe")
    assert choice.japanese and choice.name == "BIZ UDGothic"
    assert "'Comic Gothic Deluxe' not found" in choice.warning and "using BIZ UDGothic" in choice.warning


def test_font_without_japanese_is_refused():
    import pygame

    latin = str(Path(pygame.__file__).parent / "freesansbold.ttf")
    choice = find_font(latin)
    assert choice.name == "BIZ UDGothic" and "no Japanese glyphs" in choice.warning


def test_no_japanese_font_at_all_is_a_clear_message(monkeypatch):
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    choice = find_font()
    assert not choice.japanese and choice.path is None
    assert "pygame's default font" in choice.warning and "fonts-morisawa-bizud-gothic" in choice.warning


def test_glyph_filter_drops_what_the_font_cannot_draw():
    glyphs = GlyphFilter(find_font().path)
    assert glyphs.clean("受付😀は9時\u200bから\x07です🎉") == "受付は9時からです"
    assert glyphs.missing("こんにちは😀") == {"😀"}


def test_window_without_a_japanese_font_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    from display import window as window_module
    from display.options import DisplayOptions
    from display.status import NO_JAPANESE_FONT

    monkeypatch.setattr(fonts, "CANDIDATES", ())
    monkeypatch.setattr(window_module, "find_font", fonts.find_font)
    window = window_module.CaptionWindow(DisplayOptions())
    window.open()
    try:
        window.render()
        status = [item.text for item in window.drawn if item.kind == "status"]
        assert status and status[0].startswith(NO_JAPANESE_FONT[:20])
    finally:
        window.close()
