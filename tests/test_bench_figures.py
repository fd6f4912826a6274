"""`captioner bench` figures from caption events: numbers (CER after numeral normalization,
number accuracy) and the per-condition breakdown read from refs.json's family/snr."""

import json

from captioner.app.bench.evaluation import evaluate_session
from captioner.core.evalset import load_references
from captioner.core.events import CaptionEvent


def _final(uid: int, text: str, start: float, end: float) -> CaptionEvent:
    return CaptionEvent("final", uid, text, start, end, end + 0.5, committed=text)


def test_numbers_and_conditions_in_the_figures(tmp_path):
    refs = [
        {"id": "h001", "text": "午後五時十五分に、周南市へ。", "start": 1.0, "end": 3.0, "family": "ojt", "snr": 20},
        {"id": "h002", "text": "三百円です。", "start": 4.0, "end": 5.0, "family": "kokoro", "snr": None},
        {"id": "h003", "text": "ありがとうございます。", "start": 6.0, "end": 7.0, "family": "kokoro", "snr": None, "kind": "distractor"},
    ]
    (tmp_path / "refs.json").write_text(json.dumps(refs, ensure_ascii=False), encoding="utf-8")
    references = load_references(tmp_path)
    assert [r.condition for r in references] == ["ojt/snr20", "kokoro/clean", "kokoro/clean"]
    events = [
        _final(1, "午後555時15分に、周南市へ。", 1.0, 3.0),
        _final(2, "300円です", 4.0, 5.0),
        _final(3, "ありがとうございます周南市", 6.0, 7.0),
    ]
    result = evaluate_session(events, references, ["周南市"])
    assert result["numbers_right"] == "2/3" and result["number_accuracy"] == 0.667
    assert result["cer_numbers"] < result["cer"]  # 三百円 = 300円 is no error after normalization
    assert result["by_condition"]["ojt/snr20"] == {
        "utterances": 1, "cer": result["by_condition"]["ojt/snr20"]["cer"], "cer_numbers": round(2 / len("午後5時15分に周南市へ"), 4),
        "number_accuracy": 0.5, "numbers_right": "1/2", "term_hits": "1/1", "false_alarms": 0,
    }  # fmt: skip
    assert result["distractor_false_alarms"] == 1  # 周南市 in the distractor's caption
    clean = result["by_condition"]["kokoro/clean"]
    assert (clean["utterances"], clean["numbers_right"], clean["false_alarms"], clean["cer_numbers"]) == (2, "1/1", 1, round(3 / 16, 4))


def test_sets_without_conditions_have_no_breakdown(tmp_path):
    (tmp_path / "refs.json").write_text(json.dumps([{"id": "d01", "text": "三通", "start": 0.5, "end": 1.5}]), encoding="utf-8")
    references = load_references(tmp_path)
    result = evaluate_session([_final(1, "3通", 0.5, 1.5)], references, None)
    assert "by_condition" not in result and "distractor_false_alarms" not in result and result["numbers_right"] == "1/1" and result["cer_numbers"] == 0.0


def test_captions_with_a_broken_character_are_counted(tmp_path):
    (tmp_path / "refs.json").write_text(json.dumps([{"id": "d01", "text": "先生", "start": 0.5, "end": 1.5}]), encoding="utf-8")
    events = [
        CaptionEvent("partial", 1, "先\ufffd", 0.5, 1.0, 1.1),
        _final(1, "先生", 0.5, 1.5),
    ]
    assert evaluate_session(events, load_references(tmp_path), None)["broken_text_captions"] == 1


def test_a_reference_cut_into_two_utterances_is_counted_as_split(tmp_path):
    refs = [{"id": "d01", "text": "住民票の写しは、一通三百円です", "start": 0.5, "end": 4.0}, {"id": "d02", "text": "はい", "start": 5.0, "end": 5.5}]
    (tmp_path / "refs.json").write_text(json.dumps(refs, ensure_ascii=False), encoding="utf-8")
    events = [_final(1, "住民票の写しは", 0.5, 2.0), _final(2, "一通300円です", 2.6, 4.0), _final(3, "はい", 5.0, 5.5)]
    result = evaluate_session(events, load_references(tmp_path), None)
    assert result["split_utterances"] == 1 and result["cer_numbers"] == 0.0


def _partial(uid: int, text: str, start: float, end: float, at: float, corrected: str | None = None) -> CaptionEvent:
    return CaptionEvent("partial", uid, text, start, end, at, corrected_text=corrected)


def test_text_complete_is_the_first_partial_that_reads_as_the_final(tmp_path):
    refs = [{"id": "d01", "text": "住民票の写しです。", "start": 1.0, "end": 3.0}, {"id": "d02", "text": "はい", "start": 5.0, "end": 5.5}]
    (tmp_path / "refs.json").write_text(json.dumps(refs, ensure_ascii=False), encoding="utf-8")
    events = [
        _partial(1, "住民票の", 1.0, 2.0, 2.2),
        _partial(1, "住民票の写しです", 1.0, 3.0, 3.25),  # the final's text but its 。: complete
        _partial(1, "住民票の写しで", 1.0, 3.0, 3.4),  # a later partial that changed again does not undo it
        CaptionEvent("final", 1, "住民票の写しです。", 1.0, 3.0, 3.75, committed="住民票の写しです。"),
        CaptionEvent("final", 1, "住民票の写しです。", 1.0, 3.0, 4.5, committed="住民票の写しです。", update="translation"),
        _partial(2, "は", 5.0, 5.3, 5.6),  # never complete before its final
        _final(2, "はい", 5.0, 5.5),  # emitted at 6.0
    ]
    result = evaluate_session(events, load_references(tmp_path), None)
    final, complete = result["final_latency_s"], result["text_complete_latency_s"]
    assert (final["p50"], final["max"]) == (0.625, 0.75)  # d01 0.75, d02 0.5
    assert (complete["p50"], complete["max"]) == (0.375, 0.5)  # d01 0.25, d02 0.5


def test_text_complete_compares_the_shown_text_and_waits_for_every_part_of_a_split_reference(tmp_path):
    refs = [{"id": "d01", "text": "周南市の住民票は三百円です", "start": 0.5, "end": 4.0}]
    (tmp_path / "refs.json").write_text(json.dumps(refs, ensure_ascii=False), encoding="utf-8")
    events = [
        _partial(1, "集難しの住民票は", 0.5, 2.0, 2.1),  # the recognizer's text, not yet corrected: not shown as the final
        _partial(1, "集難しの住民票は", 0.5, 2.0, 2.3, corrected="周南市の住民票は"),  # shown corrected: complete at 2.3
        CaptionEvent("final", 1, "集難しの住民票は", 0.5, 2.0, 2.9, corrected_text="周南市の住民票は"),
        _partial(2, "300円です", 2.6, 4.0, 4.2),  # the second part complete at 4.2
        _final(2, "300円です", 2.6, 4.0),  # emitted at 4.5
    ]
    result = evaluate_session(events, load_references(tmp_path), None)
    assert result["split_utterances"] == 1
    assert result["final_latency_s"]["p50"] == 0.5 and result["text_complete_latency_s"]["p50"] == 0.2
