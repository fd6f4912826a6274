"""Japanese line breaking (kinsoku) on tricky strings: a pure function of text and width."""

from __future__ import annotations

import random

import pytest

from display.linebreak import NO_END, NO_START, break_lines, cell_width, line_spans


def joined(lines: list[str]) -> str:
    return "".join(lines)


def assert_kinsoku(lines: list[str]) -> None:
    for before, line in zip(lines, lines[1:]):
        assert line[0] not in NO_START, f"line starts with {line[0]!r}: {lines}"
        assert before[-1] not in NO_END, f"line ends with {before[-1]!r}: {lines}"


def assert_fits(lines: list[str], width: float, hang: float = 1.0) -> None:
    for line in lines:
        assert cell_width(line) <= width + hang, f"{line!r} is wider than {width} + {hang}"


def test_plain_japanese_fills_lines():
    lines = break_lines("市役所の窓口で住民票を発行します", 8)
    assert lines == ["市役所の窓口で住", "民票を発行します"]


@pytest.mark.parametrize(
    "text, width",
    [
        ("おはようございます。周南市役所の障害福祉課でございます。", 9),  # 。 at the break
        ("身体障害者手帳の交付には、一か月ほどかかります。", 12),  # 、 at the break
        ("「マイナンバーカード」をお持ちください。", 9),  # 」 and 「 near breaks
        ("ちょっと待ってください。しょうしょうおまちください", 3),  # small kana
        ("コーヒーとケーキのセットでございます", 4),  # ー
        ("人々の暮らしと、さまざまな手続き", 2),  # 々
        ("（注意）「重要」『大切』【必読】", 3),  # brackets on both sides
        ("本当ですか？はい！そうです……では", 5),  # ?! and ……
        ("合計は１００％です。次へ", 4),
    ],
)
def test_kinsoku_on_tricky_strings(text, width):
    lines = break_lines(text, width)
    assert joined(lines) == text
    assert_kinsoku(lines)
    assert_fits(lines, width)


def test_full_stop_hangs_instead_of_starting_a_line():
    lines = break_lines("ございます。次に", 5)
    assert lines[0] == "ございます。"  # ぶら下げ: the 。 hangs past the width
    assert lines[1] == "次に"


def test_opening_bracket_moves_to_the_next_line():
    lines = break_lines("申請書は「住民票」です", 5)
    assert lines[0] == "申請書は"
    assert lines[1].startswith("「")


def test_closing_bracket_after_full_stop_pushes_a_character_down():
    lines = break_lines("これです。」と言った", 4)
    assert_kinsoku(lines)
    assert joined(lines) == "これです。」と言った"


def test_latin_words_and_numbers_stay_whole():
    text = "Wi-Fiのpasswordは1,000円と3.5%、12:30です"
    lines = break_lines(text, 6)
    assert_kinsoku(lines)
    for word in ("password", "1,000", "3.5%", "12:30"):
        assert any(word in line for line in lines), (word, lines)


def test_spaces_at_a_break_are_dropped():
    lines = break_lines("Please bring your residence card", 8)
    assert lines == ["Please bring", "your residence", "card"]
    assert all(not line.startswith(" ") and not line.endswith(" ") for line in lines)


def test_word_longer_than_a_line_is_cut():
    lines = break_lines("supercalifragilisticexpialidocious", 4)
    assert joined(lines) == "supercalifragilisticexpialidocious"
    assert_fits(lines, 4)


def test_emoji_and_mixed_scripts_do_not_break_anything():
    text = "受付は9時から😀です。Hello、世界！🎉 OK?"
    lines = break_lines(text, 5)
    assert joined(lines).replace(" ", "") == text.replace(" ", "")
    assert_kinsoku(lines)


@pytest.mark.parametrize("width", [0, 0.1, 0.5, 1, 1.5])
def test_tiny_widths_never_loop_or_crash(width):
    text = "「ちょっと」、待って。ABC 123"
    lines = break_lines(text, width)
    assert joined(lines).replace(" ", "") == text.replace(" ", "")
    assert all(lines)


def test_empty_and_blank_text():
    assert break_lines("", 10) == []
    assert break_lines("   ", 10) == []


def test_pixel_measure_is_accepted():
    widths = {"W": 30.0, "i": 8.0}
    lines = break_lines("WiWiWi", 50, lambda s: sum(widths.get(c, 20.0) for c in s), hang=10)
    assert joined(lines) == "WiWiWi"


def test_protect_keeps_shown_characters_on_their_line():
    # "ですー" would push "す" down (追い出し) before a line-initial ー; protected, it stays.
    free = break_lines("ありがとうですー", 7)
    assert free[0] == "ありがとうで"
    kept = break_lines("ありがとうですー", 7, protect=7)
    assert kept[0].startswith("ありがとうです")


def test_hanging_punctuation_is_limited_to_one_character():
    for text in ["あいうえお。。。かきく", "あいうえお、」」かきく"]:
        for width in (3, 5):
            lines = break_lines(text, width)
            assert_fits(lines, width)


def test_random_strings_never_lose_text_or_overflow():
    rnd = random.Random(4)
    alphabet = "市役所の窓口でぁっゃーー、。「」（）？！ABC 123 Wi-Fi…々％😀"
    for _ in range(400):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80)))
        width = rnd.choice([2, 3, 5, 8, 13, 16, 20])
        spans = line_spans(text, width)
        lines = [text[a:b] for a, b in spans]
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(a < b for a, b in spans)
        assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))
        assert_fits([line for line in lines if not any(c.isascii() and c.isalnum() for c in line)], width)


def test_counter_sentences_at_every_width_keep_kinsoku(eval_dir):
    references = [
        line.split("\t")[1]
        for line in (eval_dir / "utterances.tsv").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    text = "".join(references)
    for width in range(3, 25):
        for start in range(0, len(text), 11):
            lines = break_lines(text[start : start + 120], width)
            assert_kinsoku(lines)
            assert_fits(lines, width)
