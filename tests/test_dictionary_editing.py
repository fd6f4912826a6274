"""The editing rules the CLI and the admin page share (dictionary/editing.py), on real files."""

from __future__ import annotations

import time

import pytest

from dictionary.editing import EditRefused, WordFolder, matches
from dictionary.entries import Entry
from dictionary.store import TOWNS_PREFIX, load_folder, write_records


def words(folder) -> dict[str, Entry]:
    return {e.surface: e for e in load_folder(folder).entries}


def test_reimporting_an_export_changes_nothing_and_copies_no_town_into_words_yaml(tmp_path):
    folder = WordFolder(tmp_path / "dictionary")
    folder.add(Entry("防府市", "ほうふし", aliases=("豊富市",), translations={"en": "Hofu"}, priority=3))
    towns = tmp_path / "dictionary" / f"{TOWNS_PREFIX}防府市.yaml"
    kana = "あいうえおかきくけこ"
    write_records(towns, [{"surface": f"町{i}", "reading": f"まち{kana[i % 10]}{kana[i // 10]}"} for i in range(94)])
    exported = tmp_path / "export.csv"
    folder.export_csv(exported)
    before = {p.name: p.read_bytes() for p in (tmp_path / "dictionary").iterdir()}
    outcome = folder.import_csv(exported)
    assert outcome.counts() == {"added": 0, "updated": 0, "unchanged": 95} and outcome.files == []
    assert {p.name: p.read_bytes() for p in (tmp_path / "dictionary").iterdir()} == before


def test_an_imported_change_to_a_town_goes_to_its_towns_file(tmp_path):
    folder = WordFolder(tmp_path)
    towns = tmp_path / f"{TOWNS_PREFIX}防府市.yaml"
    write_records(towns, [{"surface": "富海", "reading": "とのみ"}])
    sheet = tmp_path.parent / "sheet.csv"
    sheet.write_text("表記,読み,英語\n富海,とのみ,Tonomi\n", encoding="utf-8")
    outcome = folder.import_csv(sheet)
    assert outcome.updated == 1 and outcome.files == [towns]
    assert not (tmp_path / "words.yaml").exists() and words(tmp_path)["富海"].translations == {"en": "Tonomi"}


def test_an_unbalanced_quote_is_a_problem_not_a_swallowed_row(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text('表記,読み,備考\n防府市,ほうふし,"市役所の\n富海,とのみ,\n周南市,しゅうなんし,\n', encoding="utf-8")
    with pytest.raises(EditRefused) as refused:
        WordFolder(tmp_path / "dictionary").import_csv(sheet)
    assert any(":2: a quoted cell runs from line 2 to line 4" in p for p in refused.value.problems)
    assert not (tmp_path / "dictionary").exists()


def test_a_bad_row_imports_nothing(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("表記,読み\n防府市,ほうふし\n牟礼,む礼\n", encoding="utf-8")
    with pytest.raises(EditRefused) as refused:
        WordFolder(tmp_path / "dictionary").import_csv(sheet, shown="sheet.csv")
    assert refused.value.problems == ["sheet.csv:3: 牟礼: reading 'む礼' must be hiragana or katakana only"] or any(
        p.startswith("sheet.csv:3: 牟礼") for p in refused.value.problems
    )
    assert not (tmp_path / "dictionary").exists()


def test_search_rule_covers_surface_reading_aliases_translations_and_note():
    entry = Entry("防府市", "ほうふし", aliases=("豊富市",), translations={"en": "Hofu City"}, note="市役所")
    assert all(matches(entry, q) for q in ("防府", "ホウフ", "ほうふ", "豊富", "hofu", "市役所", ""))
    assert not matches(entry, "周南")


def test_import_time_grows_linearly_with_rows(tmp_path):
    def rows(n: int) -> str:
        kana = "あいうえおかきくけこさしすせそたちつてと"
        return "表記,読み\n" + "".join(
            f"町{i},{kana[i % 20]}{kana[i // 20 % 20]}{kana[i // 400 % 20]}まち\n" for i in range(n)
        )

    seconds = {}
    for n in (1000, 4000):
        sheet = tmp_path / f"{n}.csv"
        sheet.write_text(rows(n), encoding="utf-8")
        started = time.perf_counter()
        assert WordFolder(tmp_path / f"d{n}").import_csv(sheet).added == n
        seconds[n] = time.perf_counter() - started
    assert seconds[4000] < 8 * seconds[1000] + 0.5  # quadratic would be 16×


def test_a_word_that_cannot_be_saved_is_refused_and_never_written(tmp_path):
    """A lone surrogate (from a command line with undecodable bytes, say) would make words.yaml
    unreadable: the edit is refused, and the writer leaves such a record out."""
    folder = WordFolder(tmp_path)
    folder.add(Entry("防府市", "ほうふし"))
    with pytest.raises(EditRefused, match="cannot be saved"):
        folder.add(Entry("防\udcff府", "ほうふ"))
    write_records(tmp_path / "other.yaml", [{"surface": "富海", "reading": "とのみ"}, {"surface": "x\ud800", "reading": "えっくす"}])
    result = load_folder(tmp_path)
    assert not result.problems and sorted(e.surface for e in result.entries) == ["富海", "防府市"]


def test_a_csv_export_leaves_out_a_word_it_cannot_write(tmp_path):
    from dictionary.csvio import read_csv, write_csv

    write_csv(tmp_path / "out.csv", [Entry("防府市", "ほうふし"), Entry("x\ud800", "えっくす"), Entry("富海", "とのみ")])
    assert [e.surface for e in read_csv(tmp_path / "out.csv").entries] == ["防府市", "富海"]


def test_a_word_too_long_to_be_a_word_is_refused_on_import(tmp_path):
    """Issue 27 (Low): a 70,000-character surface imported, and could then not be deleted from the
    admin page (its URL was too long)."""
    upload = tmp_path / "upload.csv"
    upload.write_text("表記,読み\n" + "防" * 70_000 + ",ほうふ\n富海,とのみ\n", encoding="utf-8")
    with pytest.raises(EditRefused) as refused:
        WordFolder(tmp_path / "words").import_csv(upload)
    assert any("at most 100" in p for p in refused.value.problems)
    assert not (tmp_path / "words" / "words.yaml").exists()
