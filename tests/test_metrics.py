from captioner.core.metrics import cer, cer_numbers, edit_distance, normalize, number_counts, percentile, term_counts


def test_normalize_drops_punctuation_space_and_folds_width():
    assert normalize("Ａ、B。 「ｃ」ー…") == "ABc"


def test_edit_distance():
    assert edit_distance("防府市", "豊富市") == 2
    assert edit_distance("", "abc") == 3
    assert edit_distance("kitten", "sitting") == 3


def test_cer_sums_edits_over_reference_characters():
    assert cer(["あいう", "えお"], ["あいう", "えか"]) == 1 / 5
    assert cer(["あいう。"], ["あいう"]) == 0.0


def test_term_counts_hits_and_false_alarms():
    hits, occurrences, false_alarms = term_counts(
        ["徳山駅と徳山港", "こんにちは"], ["徳山駅と特山港", "徳山です"], ["徳山", "周南市"]
    )
    assert (hits, occurrences, false_alarms) == (1, 2, 1)


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert percentile([], 50) is None


def test_edit_distance_with_a_limit_stops_early():
    assert edit_distance("ほうふし", "ほうふ", limit=1) == 1
    assert edit_distance("ほうふし", "とのみ", limit=1) == 2  # more than the limit: limit + 1
    assert edit_distance("あ", "あいうえお", limit=2) == 3


def test_cer_numbers_accepts_either_way_of_writing_a_number():
    assert cer(["住民票は三百円です"], ["住民票は300円です"]) > 0
    assert cer_numbers(["住民票は三百円です"], ["住民票は300円です"]) == 0.0
    assert cer_numbers(["二〇二六年"], ["2026年"]) == 0.0
    # a changed fact stays an error: 555 for 五
    assert cer_numbers(["午後五時十五分"], ["午後555時15分"]) == 2 / len("午後5時15分")


def test_number_counts_right_numbers_over_reference_numbers():
    refs = ["午後五時十五分までに、三百円をお持ちください", "電話は0835-22-4411です", "ありがとうございます"]
    hyps = ["午後555時15分までに300円をお持ちください", "電話は0835の22の4411です", "5番です"]
    assert number_counts(refs, hyps) == (5, 6)  # 五 → 555 is the one wrong number
    assert number_counts(["一万五千円"], ["1万5千円"]) == (1, 1)
    assert number_counts(["三通"], ["3通と3通"]) == (1, 1)
    assert number_counts(["三通と三通"], ["3通"]) == (1, 2)  # each hypothesis number matches once
