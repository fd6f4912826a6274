"""Caption history → rows: committed text never moves, partials replace only the tail, paragraphs."""

from __future__ import annotations

import random
import time

import pytest

from captioner.core.events import CaptionEvent
from display.layout import BlockLayout, CaptionBoard, Row
from display.linebreak import NO_START, cell_width


def partial(uid: int, text: str, committed: str = "", start: float = 0.0, end: float | None = None, **kw) -> CaptionEvent:
    end = start + 1.0 if end is None else end
    return CaptionEvent("partial", uid, text, start, end, end, committed=committed, **kw)


def final(uid: int, text: str, start: float = 0.0, end: float | None = None, **kw) -> CaptionEvent:
    end = start + 1.0 if end is None else end
    return CaptionEvent("final", uid, text, start, end, end, committed=text, **kw)


def texts(rows: list[Row]) -> list[str]:
    return [row.text for row in rows]


def positions(board: CaptionBoard, rows: list[Row], measure=cell_width) -> dict[tuple[int, int], tuple[int, float]]:
    """(paragraph, char index) → (row within its paragraph, x) for every committed character."""
    out = {}
    row_in_paragraph: dict[int, int] = {}
    committed = {p.serial: board.paragraph_text(p).committed for p in board.paragraphs}
    for row in rows:
        k = row_in_paragraph[row.paragraph] = row_in_paragraph.get(row.paragraph, -1) + 1
        for span in row.spans:
            for i, char in enumerate(span.text):
                index = span.start + i
                if index < committed.get(row.paragraph, 0):
                    out[(row.paragraph, index)] = (k, round(span.x + measure(span.text[:i]), 6))
    return out


def test_newest_text_at_the_bottom_and_last_rows_only():
    board = CaptionBoard()
    layout = BlockLayout(8)
    board.apply(final(1, "おはようございます。周南市役所の障害福祉課でございます。", 0, 4))
    assert texts(layout.rows(board, 10)) == ["おはようございま", "す。周南市役所の", "障害福祉課でござ", "います。"]
    assert texts(layout.rows(board, 2)) == ["障害福祉課でござ", "います。"]


def test_partial_is_replaced_in_place_and_committed_text_stays():
    board = CaptionBoard()
    layout = BlockLayout(10)
    board.apply(partial(1, "身体障害者手帳の交付には", committed="身体障害者手帳の"))
    first = layout.rows(board, 3)
    board.apply(partial(1, "身体障害者手帳の発行には一か月", committed="身体障害者手帳の"))
    second = layout.rows(board, 3)
    assert first[0].spans[0] == second[0].spans[0]  # the committed run is identical
    assert first[0].spans[0].style == "current"
    assert [s.style for s in second[0].spans] == ["current", "partial"]
    assert "発行" in "".join(texts(second))


def test_styles_dim_older_captions():
    board = CaptionBoard()
    layout = BlockLayout(30)
    board.apply(final(1, "おはようございます。", 0, 1))
    board.apply(partial(2, "住民票ですね", committed="住民票", start=1.5, end=2.5))
    (row,) = layout.rows(board, 3)
    assert [(s.text, s.style) for s in row.spans] == [
        ("おはようございます。", "older"),
        ("住民票", "current"),
        ("ですね", "partial"),
    ]


def test_long_pause_starts_a_new_paragraph_on_a_new_row():
    board = CaptionBoard(paragraph_pause_s=3.0)
    layout = BlockLayout(30)
    board.apply(final(1, "はい。", 0, 1))
    board.apply(final(2, "こちらです。", 2, 3))  # 1 s pause: same paragraph, same row
    assert texts(layout.rows(board, 5)) == ["はい。こちらです。"]
    board.apply(final(3, "次の方どうぞ。", 10, 11))  # 7 s pause: new paragraph
    rows = layout.rows(board, 5)
    assert texts(rows) == ["はい。こちらです。", "次の方どうぞ。"]
    assert rows[1].first and rows[0].paragraph != rows[1].paragraph


def test_partial_of_the_next_utterance_before_the_final_of_the_previous():
    board = CaptionBoard()
    layout = BlockLayout(40)
    board.apply(partial(1, "今日は晴れ", committed="今日は", start=0, end=1))
    board.apply(partial(2, "ですね", start=1.2, end=2))  # the next utterance starts before 1 is final
    content = board.paragraph_text(board.paragraphs[0])
    assert content.text == "今日は晴れですね" and content.committed == 3
    board.apply(final(1, "今日は晴れです。", 0, 1))
    content = board.paragraph_text(board.paragraphs[0])
    assert content.text == "今日は晴れです。ですね" and content.committed == len("今日は晴れです。")
    assert texts(layout.rows(board, 2)) == ["今日は晴れです。ですね"]


def test_an_empty_final_removes_the_utterance():
    board = CaptionBoard()
    board.apply(final(1, "こんにちは。", 0, 1))
    board.apply(partial(2, "ピッ", start=2, end=2.3))
    board.apply(final(2, "", start=2, end=2.3))
    assert [u.id for p in board.paragraphs for u in p.utterances] == [1]
    assert board.paragraph_text(board.paragraphs[0]).style(0) == "current"


def test_a_shorter_partial_does_not_make_the_text_jump():
    board = CaptionBoard()
    layout = BlockLayout(6)
    board.apply(partial(1, "あいうえおかきくけこさしすせそ", committed="あいうえお"))
    assert len(layout.rows(board, 10)) == 3
    board.apply(partial(1, "あいうえおかき", committed="あいうえお"))
    rows = layout.rows(board, 10)
    assert len(rows) == 3 and rows[-1].text == ""  # the row is kept while the speaker goes on
    board.apply(final(1, "あいうえおかき。"))
    assert len(layout.rows(board, 10)) == 2  # the final releases it


def test_latin_words_between_utterances_get_a_space():
    board = CaptionBoard()
    layout = BlockLayout(40)
    board.apply(final(1, "Wi-Fi", 0, 1))
    board.apply(final(2, "OK です", 1.5, 2))
    assert texts(layout.rows(board, 1)) == ["Wi-Fi OK です"]


def test_translations_form_their_own_channel():
    board = CaptionBoard()
    layout = BlockLayout(10, channel="en")
    board.apply(final(1, "こんにちは。", 0, 1))
    board.apply(final(1, "こんにちは。", 0, 1, translations={"en": "Hello."}))
    board.apply(final(2, "住民票です。", 1.5, 2.5, translations={"en": "This is the residence certificate."}))
    assert board.languages == ["en"]
    rows = layout.rows(board, 5)
    assert texts(rows) == ["Hello. This is the", "residence", "certificate."]
    assert rows[-1].spans[-1].style == "current" and rows[0].spans[0].style == "older"


def test_a_translation_that_never_comes_does_not_hold_back_the_next():
    board = CaptionBoard()
    board.apply(final(1, "えー", 0, 1))  # never translated
    board.apply(final(2, "住民票です。", 1.5, 2.5, translations={"en": "A residence certificate."}))
    content = board.paragraph_text(board.paragraphs[0], "en")
    assert content.text == "A residence certificate." and content.committed == len(content.text)


def test_extremely_long_utterance_is_laid_out_quickly():
    board = CaptionBoard()
    layout = BlockLayout(16)
    text = "とても長い説明が続きます、" * 800  # 10,400 characters in one partial
    board.apply(partial(1, text, committed=text[:5000]))
    start = time.perf_counter()
    rows = layout.rows(board, 3)
    assert len(rows) == 3 and all(cell_width(r.text) <= 17 for r in rows)
    board.apply(partial(1, text + "さらに", committed=text[:9000]))
    layout.rows(board, 3)
    assert time.perf_counter() - start < 2.0


def test_history_is_bounded():
    board = CaptionBoard(paragraph_pause_s=1.0, keep_paragraphs=4, max_paragraph_utterances=5)
    for i in range(200):
        board.apply(final(i, "はい。", i * 0.5 + (2 if i % 7 == 0 else 0) + i, i * 0.5 + i + 2.3))
    assert len(board.paragraphs) <= 4
    assert all(len(p.utterances) <= 5 for p in board.paragraphs)


def test_ruby_bases_are_never_split_across_rows():
    board = CaptionBoard()
    layout = BlockLayout(4, ruby=lambda text, readings: [(3, 6, "しやくしょ")] if text.startswith("周南市役所") else [])
    board.apply(final(1, "周南市役所です", 0, 1))
    rows = layout.rows(board, 5)
    assert texts(rows) == ["周南市", "役所です"] or all("役所" not in r.text or r.text.startswith("役所") for r in rows)
    assert not any(r.text.endswith("役") for r in rows)


def simulate(seed: int, measure=cell_width) -> None:
    """Random utterances committed bit by bit with noisy partial tails: committed text never moves."""
    rnd = random.Random(seed)
    alphabet = "市役所の窓口で住民票を発行しますぁっゃーー、。「」（）ABC 123 Wi-Fi…"
    board = CaptionBoard(paragraph_pause_s=3)
    width = rnd.choice([5, 8, 13, 16]) * measure("あ")
    layout = BlockLayout(width, measure, hang=measure("あ"))
    shown: dict = {}
    clock = 0.0

    def check() -> None:
        rows = layout.rows(board, 1000)
        for key, where in positions(board, rows, measure).items():
            assert shown.setdefault(key, where) == where, f"seed {seed}: committed char {key} moved"

    for uid in range(6):
        full = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(3, 60)))
        committed, start = 0, clock
        while committed < len(full):
            committed = min(len(full), committed + rnd.randint(0, 6))
            tail = "".join(rnd.choice(alphabet) if rnd.random() < 0.3 else c for c in full[committed : committed + rnd.randint(0, 10)])
            board.apply(partial(uid, full[:committed] + tail, full[:committed], start, clock))
            check()
            clock += 0.5
        board.apply(final(uid, full, start, clock))
        check()
        clock += rnd.choice([0.5, 5.0])


@pytest.mark.parametrize("seed", range(150))
def test_committed_text_never_moves_or_reflows(seed):
    simulate(seed)


@pytest.mark.parametrize("seed", range(30))
def test_committed_text_never_moves_with_a_proportional_measure(seed):
    widths = {c: 20 + (ord(c) * 7) % 19 for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"}
    simulate(seed, lambda s: float(sum(widths.get(c, 40) if c not in " " else 11 for c in s)))


def test_streamed_counter_sentences_keep_kinsoku(eval_dir):
    """Real sentences committed a few characters at a time: stability never costs a kinsoku break."""
    references = [
        line.split("\t")[1]
        for line in (eval_dir / "utterances.tsv").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for width in (8, 13, 16, 20):
        board = CaptionBoard(paragraph_pause_s=100)
        layout = BlockLayout(width)
        for uid, sentence in enumerate(references):
            for cut in range(2, len(sentence), 3):
                board.apply(partial(uid, sentence[: cut + 4], sentence[:cut], uid * 5.0, uid * 5.0 + 1))
                layout.rows(board, 1000)
            board.apply(final(uid, sentence, uid * 5.0, uid * 5.0 + 1))
        rows = layout.rows(board, 1000)
        assert "".join(texts(rows)) == "".join(references)
        for before, row in zip(rows, rows[1:]):
            assert row.text[0] not in NO_START and before.text[-1] not in "「（", (width, before.text, row.text)
            assert cell_width(before.text) <= width + 1
