from captioner.core.metrics import (
    cer,
    edit_distance,
    normalize,
    percentile,
    term_counts,
)


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
