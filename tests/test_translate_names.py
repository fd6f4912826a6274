"""Names: glossary matching, placeholders, and putting the names back (pure functions)."""

from __future__ import annotations

from dictionary.entries import Entry
from translate.names import ListGlossary, glossary_of, protect, rendering, restore

ENTRIES = [
    {"surface": "周南", "reading": "しゅうなん"},
    {"surface": "周南市", "reading": "しゅうなんし", "en": "Shunan City"},
    {"surface": "徳山", "reading": "とくやま"},
    {"surface": "遠石八幡宮", "reading": "といしはちまんぐう", "en": "Toishi Hachimangu Shrine", "vi": "Đền Toishi Hachimangu"},
]
TEXT = "周南市の徳山から遠石八幡宮へ。"


def test_list_glossary_finds_longest_surfaces_in_order():
    terms = ListGlossary(ENTRIES).find(TEXT)
    assert [(t.surface, t.start, t.end) for t in terms] == [("周南市", 0, 3), ("徳山", 4, 6), ("遠石八幡宮", 8, 13)]
    assert terms[0].translations == {"en": "Shunan City"}
    assert ListGlossary([]).find(TEXT) == []


def test_glossary_from_dictionary_entries_follows_reloads():
    class Stage:  # what the dictionary stage exposes: a list of entries, replaced on reload
        entries = [Entry("周南市", "しゅうなんし", translations={"en": "Shunan City"})]

    stage = Stage()
    glossary = glossary_of(stage)
    assert [t.surface for t in glossary.find(TEXT)] == ["周南市"]
    stage.entries = [Entry("徳山", "とくやま")]
    assert [t.surface for t in glossary.find(TEXT)] == ["徳山"]
    assert glossary_of(None) is None


def test_rendering_prefers_the_translation_then_romanizes_for_latin_scripts():
    shunan, tokuyama, shrine = ListGlossary(ENTRIES).find(TEXT)
    assert rendering(shunan, "en") == "Shunan City"
    assert rendering(shunan, "vi") == "Shunanshi"  # no Vietnamese name: Hepburn
    assert rendering(shunan, "pt-BR") == "Shunanshi"
    brazil = ListGlossary([{"surface": "周南市", "pt-br": "Cidade de Shunan"}]).find("周南市")[0]
    assert rendering(brazil, "pt-BR") == "Cidade de Shunan"  # codes compare case-insensitively
    assert rendering(shrine, "vi") == "Đền Toishi Hachimangu"
    assert rendering(tokuyama, "zh") is None  # not a Latin script: the model translates it
    assert rendering(tokuyama, "ko") is None


def test_protect_replaces_terms_by_numbered_placeholders():
    protected = protect(TEXT, ListGlossary(ENTRIES).find(TEXT), "en")
    assert protected.text == "⟦0⟧の⟦1⟧から⟦2⟧へ。"
    assert [s.text for s in protected.slots] == ["Shunan City", "Tokuyama", "Toishi Hachimangu Shrine"]
    assert protect(TEXT, ListGlossary(ENTRIES).find(TEXT), "zh").text == TEXT


def test_restore_puts_names_back_with_spaces():
    slots = protect(TEXT, ListGlossary(ENTRIES).find(TEXT), "en").slots
    assert restore("From⟦1⟧in⟦0⟧to ⟦2⟧ .", slots, "en") == "From Tokuyama in Shunan City to Toishi Hachimangu Shrine."
    assert restore("(⟦1⟧), ⟦0⟧, ⟦2⟧!", slots, "en") == "(Tokuyama), Shunan City, Toishi Hachimangu Shrine!"


def test_restore_inserts_a_lost_name_at_a_word_boundary_near_its_place():
    slots = protect("今日は周南市へ行きます", ListGlossary(ENTRIES).find("今日は周南市へ行きます"), "en").slots
    assert slots[0].position > 0.3
    out = restore("Today I will go there", slots, "en")
    assert "Shunan City" in out
    assert out.startswith("Today ") and "  " not in out and not out.startswith("Shunan")


def test_restore_drops_invented_placeholders_and_keeps_unspaced_scripts_tight():
    slots = protect("徳山です", ListGlossary(ENTRIES).find("徳山です"), "vi").slots
    assert restore("Đây là ⟦0⟧ ⟦7⟧.", slots, "vi") == "Đây là Tokuyama."
    zh_slots = protect("徳山です", [t for t in ListGlossary([{"surface": "徳山", "zh": "德山"}]).find("徳山です")], "zh").slots
    assert restore("这是 ⟦0⟧ 。", zh_slots, "zh") == "这是德山。"
