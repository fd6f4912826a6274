"""captioner.core.facts: the facts a caption marks, found in plain strings."""

import pytest

from captioner.core.facts import find_facts


def marked(text, words=()):
    return [(text[f.start : f.end], f.kind, f.value) for f in find_facts(text, words)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手数料は三百円です", [("三百円", "amount", "300円")]),
        ("手数料は300円です", [("300円", "amount", "300円")]),
        ("一通1,200円です", [("1,200円", "amount", "1200円")]),
        ("１万５千円", [("１万５千円", "amount", "15000円")]),
        ("七月九日までに", [("七月九日", "date", "7月9日")]),
        ("令和8年度の申請は4月1日（月）から", [("令和8年度", "date", "令和8年度"), ("4月1日（月）", "date", "4月1日(月)")]),
        ("毎月十五日に相談", [("十五日", "date", "15日")]),
        ("観察会は十二月に開かれます", [("十二月", "date", "12月")]),
        ("3月末までに", [("3月末", "date", "3月末")]),
        ("午後三時十五分から", [("午後三時十五分", "time", "午後3時15分")]),
        ("9時半まで", [("9時半", "time", "9時半")]),
        ("0736-63-1286までお電話", [("0736-63-1286", "phone", "0736-63-1286")]),
        ("二階の市民課、3番窓口へ", [("二階", "place", "2階"), ("3番窓口", "place", "3番窓口")]),
        ("201号室へどうぞ", [("201号室", "place", "201号室")]),
    ],
)
def test_numbers_that_matter_are_found(text, expected):
    assert marked(text) == expected


@pytest.mark.parametrize("text", ["14日以内に届け出て", "3か月前から", "毎月第二月曜日に収集", "月額三百", "2通ご用意", "5人世帯", "一般の方は一時的に", "三田さん", "十分です"])
def test_counts_durations_and_words_with_numerals_are_not_marked(text):
    assert marked(text) == []


def test_three_hundred_yen_is_the_same_fact_in_kanji_and_digits():
    assert find_facts("三百円")[0].value == find_facts("300円")[0].value == find_facts("３００円")[0].value


def test_registered_words_are_marked_longest_first_and_never_overlap():
    text = "国民健康保険の窓口は2階です"
    assert marked(text, ["国民健康保険", "健康保険", ""]) == [("国民健康保険", "word", "国民健康保険"), ("2階", "place", "2階")]


def test_a_word_that_holds_a_number_wins_over_the_number():
    assert marked("第2庁舎へ", ["第2庁舎"]) == [("第2庁舎", "word", "第2庁舎")]


def test_spans_index_the_text_as_given():
    text = "本日は、午前１０時から２階で受け付けます。"
    for fact in find_facts(text):
        assert text[fact.start : fact.end] in ("午前１０時", "２階")


def test_corpus_templates_record_where_each_slot_is_and_the_figure_counts_them():
    import random

    from captioner.app.bench.corpus.facts import gold_spans
    from captioner.app.bench.corpus.templates import fill

    rendered = fill("{town}の窓口は、{date}の{time}から{window}窓口で、{amount}です。{days}以内に。", random.Random(3), {"town": ("中町", "ナカチョウ")})
    spans = {name: rendered.text[s:e] for name, s, e in rendered.slots}
    assert spans["town"] == "中町" and spans["date"].endswith("日") and spans["amount"].endswith("円")
    gold = gold_spans(rendered.text, rendered.slots, ["中町"])
    assert sorted(kind for _, _, kind in gold) == ["amount", "date", "place", "time", "word"]  # {days} is no fact
