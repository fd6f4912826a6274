"""Names the partials showed, put back where the final lost them (dictionary/shown.py), with
the real analyzer; the sentences are the recognizer's own partials and finals (tune split)."""

from __future__ import annotations

import pytest

from captioner.core.events import CaptionEvent
from dictionary.correct import Corrector
from dictionary.entries import Entry
from dictionary.options import DictionaryOptions
from dictionary.shown import ShownNames, restore
from dictionary.stage import DictionaryStage

ENTRIES = [
    Entry("粗大ごみ", "そだいごみ"),
    Entry("三河町", "みかわちょう"),
    Entry("野尻町", "のじりちょう"),
    Entry("福井", "ふくい"),
    Entry("水島中通", "みずしまなかどおり"),
]


def shown(*partials: str) -> ShownNames:
    names = ShownNames()
    for text in partials:
        names.add(text, {e.surface for e in ENTRIES if e.surface in text})
    return names


@pytest.mark.parametrize(
    ("partial", "final", "expected"),
    [
        ("粗大ごみの処理県は1枚", "育大ごみの処理権は1枚1000円で、水島中通のコンビニでも帰ます。", "粗大ごみの処理権は1枚1000円で、水島中通のコンビニでも帰ます。"),
        ("三河町にお住まいの方は、", "庇川町にお住まいの方は、石巻市役所の本町社で鉄づきができます。", "三河町にお住まいの方は、石巻市役所の本町社で鉄づきができます。"),
        ("野尻町市所の窓口は、", "農地立長子所の窓口は、午前11時30分までになります。", "野尻町所の窓口は、午前11時30分までになります。"),
    ],
)
def test_a_name_two_partials_showed_comes_back_where_the_final_lost_it(partial, final, expected):
    corrector = Corrector(ENTRIES)
    text, changes, _ = restore(corrector, final, shown(partial, partial), 0, len(final))
    assert text == expected
    assert "2 partials showed" in changes[0].reason
    assert restore(corrector, final, shown(partial), 0, len(final)) == (final, [], len(final))  # one partial is not enough


def test_what_may_not_change_does_not():
    corrector = Corrector(ENTRIES)
    final = "育大ごみの処理権は1枚1000円です。"
    two = shown("粗大ごみの処理県は", "粗大ごみの処理県は1枚")
    assert restore(corrector, final, two, 6, len(final))[0] == final  # committed text stays as shown
    assert restore(corrector, "粗大ごみの処理権は1枚です。", two, 0, 0)[1] == []  # the final has it
    # an ordinary word the final wrote is kept (福祉 is not 福井), as is text that reads nothing like it
    assert restore(corrector, "上宝町の福祉センターでは", shown("上宝町の福井センターでは", "上宝町の福井センターでは、毎月"), 0, 0)[1] == []
    assert restore(corrector, "市民ホールの駐車場は", shown("粗大ごみの駐車場は", "粗大ごみの駐車場は"), 0, 0)[1] == []
    gone = Corrector(ENTRIES[1:])  # the word was deleted from the dictionary since
    assert restore(gone, final, two, 0, 0)[1] == []


def test_the_stage_puts_back_a_name_its_partials_agreed_on():
    stage = DictionaryStage(DictionaryOptions(), ENTRIES)

    def event(kind, uid, text, committed=""):
        return CaptionEvent(kind, uid, text, 0.0, 1.0, 1.0, committed=committed)

    final_text = "庇川町にお住まいの方は、石巻市役所で手続きができます。"
    for text in ("三河町にお", "三河町にお住まいの方は"):
        assert "三河町" in stage.apply(event("partial", 1, text)).display_text
    final = stage.apply(event("final", 1, final_text, final_text))
    assert final.display_text == "三河町にお住まいの方は、石巻市役所で手続きができます。"
    assert final.readings["三河町"] == "みかわちょう"
    assert "2 partials showed 三河町" in final.details["corrections"][-1]
    off = DictionaryStage(DictionaryOptions(rules_off=["shown_names"]), ENTRIES)
    for text in ("三河町にお", "三河町にお住まいの方は"):
        off.apply(event("partial", 2, text))
    assert off.apply(event("final", 2, final_text, final_text)).display_text == final_text
    assert stage._shown == {} and off._shown == {}  # finished utterances are forgotten


def test_a_name_the_partials_agreed_on_is_committed_with_it():
    """Committed text never changes on screen: the name goes in as the piece is committed."""
    stage = DictionaryStage(DictionaryOptions(), ENTRIES)

    def event(kind, text, committed):
        return CaptionEvent(kind, 1, text, 0.0, 1.0, 1.0, committed=committed)

    stage.apply(event("partial", "三河町にお", ""))
    stage.apply(event("partial", "三河町にお住まいの方は", ""))
    piece = "庇川町にお住まいの方は、"
    committing = stage.apply(event("partial", piece + "石巻市", piece))
    assert committing.display_committed == "三河町にお住まいの方は、"
    final_text = piece + "石巻市役所で手続きができます。"
    final = stage.apply(event("final", final_text, final_text))
    assert final.display_text == "三河町にお住まいの方は、石巻市役所で手続きができます。"
    assert final.readings["三河町"] == "みかわちょう"
