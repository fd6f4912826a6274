"""CSV files as Excel users write them: Shift_JIS or UTF-8 (BOM or not), Japanese headers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dictionary.csvio import read_csv, write_csv
from dictionary.entries import Entry
from dictionary.store import load_folder

JAPANESE = (
    "表記,読み,英語,ベトナム語,中国語,ポルトガル語,韓国語,別表記,備考,優先度\r\n"
    "防府市,ほうふし,Hofu City,Thành phố Hofu,防府市,Cidade de Hofu,호후시,豊富市;ほうふ市,市の名前,10\r\n"
    "富海,トノミ,Tonomi,,,,,殿海、外海,,\r\n"
    "\r\n"
    "牟礼,む礼,,,,,,,,\r\n"
    "佐波川,さばがわ,Saba River,,,,,,,高い\r\n"
    ",だいどう,,,,,,,,\r\n"
)


def surfaces(result) -> list[str]:
    return [e.surface for e in result.entries]


def check_japanese_file(path: Path) -> None:
    result = read_csv(path)
    assert surfaces(result) == ["防府市", "富海", "佐波川"]
    hofu, tonomi, saba = result.entries
    assert hofu == Entry(
        "防府市", "ほうふし", ("豊富市", "ほうふ市"),
        {"en": "Hofu City", "vi": "Thành phố Hofu", "zh": "防府市", "pt": "Cidade de Hofu", "ko": "호후시"},
        "市の名前", 10, f"{path}:2",
    )  # fmt: skip
    assert tonomi.reading == "とのみ" and tonomi.aliases == ("殿海", "外海")
    assert saba.priority == 0  # the bad priority is reported, the word still loads
    found = [str(p) for p in result.problems]
    assert found == [
        f"{path}:5: 牟礼: reading 'む礼' must be hiragana or katakana, it has kanji (礼)",
        f"{path}:6: 佐波川: 'priority' must be a whole number, not '高い'",
        f"{path}:7: entry has no surface (the word as it is displayed)",
    ]


def test_shift_jis_csv_with_japanese_headers(tmp_path):
    path = tmp_path / "words.csv"
    path.write_bytes(JAPANESE.replace("Thành phố Hofu", "").replace("호후시", "").encode("cp932"))
    result = read_csv(path)
    assert result.entries[0].translations == {"en": "Hofu City", "zh": "防府市", "pt": "Cidade de Hofu"}
    assert surfaces(result) == ["防府市", "富海", "佐波川"] and len(result.problems) == 3


def test_utf8_with_bom_csv_with_japanese_headers(tmp_path):
    path = tmp_path / "words.csv"
    path.write_bytes(JAPANESE.encode("utf-8-sig"))
    check_japanese_file(path)


def test_utf8_without_bom_and_english_headers_and_other_header_names(tmp_path):
    path = tmp_path / "words.csv"
    path.write_text(
        "Surface, Reading ,EN,pt-br,aliases,note,priority\n防府市,ホウフシ,Hofu City,Cidade de Hofu,豊富市,,3\n",
        encoding="utf-8",
    )
    [entry] = read_csv(path).entries
    assert (entry.reading, entry.translations, entry.aliases, entry.priority) == (
        "ほうふし", {"en": "Hofu City", "pt-br": "Cidade de Hofu"}, ("豊富市",), 3,
    )  # fmt: skip

    other = tmp_path / "other.csv"
    other.write_text("見出し,よみ,メモ,誤認識,色\n富海,とのみ,海辺,殿海,青\n", encoding="utf-8")
    result = read_csv(other)
    assert [(e.surface, e.note, e.aliases) for e in result.entries] == [("富海", "海辺", ("殿海",))]
    [problem] = result.problems
    assert str(problem).startswith(f"{other}:1: unknown column '色' is ignored (known: 表記, 読み, 英語")


def test_an_undecodable_byte_names_line_and_offset_and_the_other_rows_import(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(
        "表記,読み\n防府市,ほうふし\n".encode("utf-8") + b"\xff\xfe,abc\n" + "富海,とのみ\n".encode("utf-8")
    )
    result = read_csv(path)
    assert surfaces(result) == ["防府市", "富海"]
    [problem] = result.problems
    assert (problem.file, problem.line) == (str(path), 3)
    assert "cannot decode byte 0xff at byte offset 37" in problem.message

    sjis = tmp_path / "broken-sjis.csv"
    sjis.write_bytes("表記,読み\n防府市,ほうふし\n".encode("cp932") + b"\x81\x20bad,x\n" + "富海,とのみ\n".encode("cp932"))
    result = read_csv(sjis)
    assert surfaces(result) == ["防府市", "富海"]
    [problem] = result.problems
    assert problem.line == 3 and "0x81 at byte offset 26" in problem.message and "Shift_JIS" in problem.message


def test_a_missing_required_column_names_the_file_and_the_header_line(tmp_path):
    path = tmp_path / "words.csv"
    path.write_bytes("\r\n表記,英語\r\n防府市,Hofu City\r\n".encode("cp932"))
    result = read_csv(path)
    assert result.entries == [] and result.fatal
    [problem] = result.problems
    assert str(problem) == f"{path}:2: missing required column 読み (reading); the header row is: 表記, 英語"


def test_a_csv_in_the_dictionary_folder_loads_with_the_yaml_files(tmp_path):
    (tmp_path / "words.yaml").write_text("- {surface: 防府市, reading: ほうふし}\n", encoding="utf-8")
    (tmp_path / "terms.csv").write_bytes("表記,読み\n要介護認定,ようかいごにんてい\n防府市,ぼうふし\n".encode("cp932"))
    result = load_folder(tmp_path)
    assert [e.surface for e in result.entries] == ["要介護認定", "防府市"]  # by file name: terms.csv first
    [problem] = result.problems
    assert problem.file == str(tmp_path / "words.yaml") and "registered twice" in problem.message


def test_export_is_utf8_with_bom_and_japanese_headers_and_reads_back(tmp_path):
    entries = [
        Entry("防府市", "ほうふし", ("豊富市", "ほうふ市"), {"en": "Hofu City", "vi": "Thành phố Hofu"}, "市の名前", 10),
        Entry("富海", "とのみ", (), {"en": "Tonomi", "es": "Tonomi", "pt-br": "Tonomi"}),
        Entry("牟礼", "むれ", note='a "quoted", note'),
    ]
    path = tmp_path / "export.csv"
    write_csv(path, entries)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["表記", "読み", "英語", "ベトナム語", "スペイン語", "pt-br", "別表記", "備考", "優先度"]
    assert rows[1] == ["防府市", "ほうふし", "Hofu City", "Thành phố Hofu", "", "", "豊富市;ほうふ市", "市の名前", "10"]
    back = read_csv(path)
    assert back.problems == []
    assert [(e.surface, e.reading, e.aliases, e.translations, e.note, e.priority) for e in back.entries] == [
        (e.surface, e.reading, e.aliases, e.translations, e.note, e.priority) for e in entries
    ]


def test_full_width_formula_characters_are_quoted_on_export_and_import_unchanged(tmp_path):
    """Issue 27 (Low): Excel runs ＝ ＋ － ＠ as formulas too; the survey export quoted them, the
    dictionary export did not."""
    entry = Entry("防府市", "ほうふし", note="＝HYPERLINK(\"http://x\")", aliases=("＠防府",))
    write_csv(tmp_path / "out.csv", [entry])
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert "'＝HYPERLINK" in text and "'＠防府" in text
    back = read_csv(tmp_path / "out.csv").entries[0]
    assert (back.note, back.aliases) == (entry.note, entry.aliases)
