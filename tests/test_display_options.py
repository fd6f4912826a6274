"""Display options, themes (contrast), sizes fitted to the window, and the saved settings file."""

from __future__ import annotations

import pytest

from captioner.app.config import Config, load_config
from captioner.core.errors import ConfigError
from display.geometry import fit
from display.options import LIVE_KEYS, DisplayOptions
from display.settings import apply_saved, save
from display.theme import MIN_CONTRAST, THEMES, contrast


def write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", list(THEMES))
def test_every_text_colour_has_at_least_7_to_1_contrast(name):
    theme = THEMES[name]
    for role, colour in theme.text_colours().items():
        assert contrast(colour, theme.background) >= MIN_CONTRAST, f"{name}.{role}"


def test_transparent_theme_is_pure_black_and_distinguishes_partials():
    theme = THEMES["transparent"]
    assert theme.background == (0, 0, 0)
    assert len({theme.current, theme.older, theme.partial, theme.translation}) == 4


def test_contrast_formula():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)


def test_display_section_loads_and_validates(tmp_path):
    config = load_config(write(tmp_path, "display:\n  theme: light\n  lines: 2\n  rotation: 180\n"))
    assert (config.display.theme, config.display.lines, config.display.rotation) == ("light", 2, 180)


@pytest.mark.parametrize(
    "text, message",
    [
        ("display:\n  theme: neon\n", "theme must be one of transparent, light, yellow"),
        ("display:\n  rotation: 45\n", "rotation must be 0, 90, 180 or 270"),
        ("display:\n  lines: 0\n", "lines must be between 1 and 8"),
        ("display:\n  chars_per_line: 100\n", "chars_per_line must be between"),
        ("display:\n  translation_languages: [english!]\n", "not a language code"),
        ("display:\n  monitor: -1\n", "monitor must be 0 or more"),
        ("display:\n  fulscreen: true\n", "unknown key 'display.fulscreen'"),
    ],
)
def test_bad_display_values_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768), (1280, 720), (1024, 768), (3840, 2160)])
def test_size_gives_13_to_20_characters_a_line(size):
    g = fit(*size, lines=3, chars_per_line=16)
    assert 13 <= g.line_width / g.size <= 20
    assert g.status_top >= 0 and g.captions_bottom <= size[1]


@pytest.mark.parametrize("furigana, languages", [(False, 0), (True, 0), (False, 2), (True, 1)])
def test_everything_fits_in_the_height(furigana, languages):
    g = fit(1280, 720, lines=3, chars_per_line=16, furigana=furigana, languages=languages)
    assert g.status_top >= g.pad_y - 1
    bottom = (g.translation_tops[-1] + g.translation_rows * g.translation_row_height) if languages else g.captions_bottom
    assert bottom <= g.height - g.pad_y + 1


@pytest.mark.parametrize("size", [(1, 1), (20, 12), (160, 90), (5000, 100)])
def test_tiny_and_odd_sizes_do_not_break_the_arithmetic(size):
    g = fit(*size, lines=8, chars_per_line=40, furigana=True, languages=3)
    assert g.size >= 1 and g.line_width >= 1 and g.row_height >= 1


def test_saved_settings_are_loaded_over_the_config(tmp_path):
    options = DisplayOptions(lines=2, theme="yellow", mirror=True, chars_per_line=13)
    path = tmp_path / "display-settings.yaml"
    save(options, path)
    text = path.read_text(encoding="utf-8")
    assert all(f"{key}:" in text for key in LIVE_KEYS) and "monitor" not in text
    config = Config()
    apply_saved(config, path)
    assert (config.display.lines, config.display.theme, config.display.mirror, config.display.chars_per_line) == (
        2, "yellow", True, 13,
    )


def test_a_broken_settings_file_is_ignored_with_a_warning(tmp_path, caplog):
    path = tmp_path / "display-settings.yaml"
    path.write_text("display:\n  lines: 3\n  theme: neon\n", encoding="utf-8")
    config = Config()
    apply_saved(config, path)
    assert config.display.theme == "transparent" and config.display.lines == 3
    assert "ignoring the saved display settings" in caplog.text


def test_settings_file_lives_next_to_the_user_config(tmp_path, monkeypatch):
    from display.settings import settings_path

    monkeypatch.setenv("CAPTIONER_CONFIG", str(tmp_path / "site" / "config.yaml"))
    assert settings_path() == tmp_path / "site" / "display-settings.yaml"
