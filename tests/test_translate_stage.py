"""The translation stage with tiny real Argos packages: the real loading, tokenizing and
CTranslate2 path, pivoting, names, the cache, and Japanese captions that never wait."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import pytest

from captioner.app.sinks import TerminalPrinter
from captioner.core.events import CaptionEvent
from tests.translate_support import JA_EN, JA_LINES, PLACEHOLDERS, make_packages
from translate.engine import CaptionTranslator, split_sentences
from translate.names import ListGlossary
from translate.options import TranslateOptions
from translate.packages import PackageStore
from translate.stage import TranslationStage, build_stage
from captioner.app.bench.tiny_argos import build_package, expected_output
from translate.translators import ArgosTranslator, CachedTranslator, PivotTranslator

GLOSSARY = ListGlossary([{"surface": "周南市", "reading": "しゅうなんし", "en": "Shunan City"}])


@pytest.fixture(scope="module")
def package_files(tmp_path_factory) -> dict[str, Path]:
    return make_packages(tmp_path_factory.mktemp("packages"))


@pytest.fixture
def store(tmp_path, package_files) -> PackageStore:
    store = PackageStore([tmp_path / "installed"])
    for file in package_files.values():
        store.install(file)
    return store


def final(uid: int, text: str) -> CaptionEvent:
    return CaptionEvent("final", uid, text, 0.0, 1.0, 0.5, committed=text)


def partial(uid: int, text: str, committed: str) -> CaptionEvent:
    return CaptionEvent("partial", uid, text, 0.0, 1.0, 0.3, committed=committed)


def run_stage(store, languages, events, **kwargs):
    received: list[CaptionEvent] = []
    problems: list[str] = []
    options = TranslateOptions(languages=languages, partials=kwargs.pop("partials", False))
    stage = build_stage(options, [received.append], store=store, on_problem=problems.append, **kwargs)
    with stage:
        for event in events:
            stage(event)
    return stage, received, problems


def updates(received):
    return {e.utterance_id: e for e in received if e.update == "translation"}


def test_split_sentences_on_japanese_punctuation():
    assert split_sentences("こんにちは。住民票ですね？はい！") == ["こんにちは。", "住民票ですね？", "はい！"]
    assert split_sentences("句点なし") == ["句点なし"]
    assert split_sentences("  ") == []


def test_final_is_forwarded_then_updated_with_translations_model_and_time(store):
    stage, received, problems = run_stage(store, ["en", "zh"], [final(0, "こんにちは。住民票をください。")])
    assert problems == []
    assert [bool(e.translations) for e in received] == [False, True]  # Japanese first, then the update
    update = received[1]
    assert update.utterance_id == 0 and update.kind == "final" and update.text == received[0].text
    assert update.translations == {"en": "hello. residence certificateを please.", "zh": "你好。住民票を请。"}
    info = update.details["translation"]
    assert info["en"]["model"] == "translate-ja_en 1.0" and info["zh"]["model"] == "translate-ja_zh 1.0"
    assert all(0 <= v["seconds"] < 5 for v in info.values())
    assert update.details["translated_text"] == "こんにちは。住民票をください。"
    assert stage.stats.finals == 1 and not stage._thread.is_alive()


def test_output_is_what_the_tiny_model_was_built_to_give(store, package_files):
    """The whole path (SentencePiece → CTranslate2 → detokenize) against the model's definition."""
    with zipfile.ZipFile(package_files["ja_en"]) as archive:
        sp_model = archive.read(next(n for n in archive.namelist() if n.endswith("sentencepiece.model")))
    translator = ArgosTranslator(store.find("ja", "en"))
    for line in JA_LINES:
        assert translator.translate([line]) == [expected_output(sp_model, JA_EN, line)]


def test_a_base_size_model_gives_the_same_output(tmp_path, store):
    """The benchmark's stand-in for a real model: Argos-size layers and vocabulary, same output."""
    file = build_package(tmp_path / "base.argosmodel", "ja", "en", JA_LINES, JA_EN, symbols=PLACEHOLDERS, size="base")
    base_store = PackageStore([tmp_path / "base"])
    base = ArgosTranslator(base_store.install(file))
    texts = [*JA_LINES[:3], "⟦0⟧に住んでいます。"]
    assert base.translate(texts) == ArgosTranslator(store.find("ja", "en")).translate(texts)
    assert (base.package.model_dir / "model.bin").stat().st_size > 20_000_000  # 6+6 layers, 32k pieces, int8


def test_pivot_through_english_when_no_direct_package(store):
    stage, received, _ = run_stage(store, ["vi"], [final(0, "こんにちは。")])
    update = updates(received)[0]
    assert update.translations == {"vi": "xin chào."}
    assert update.details["translation"]["vi"]["model"] == "translate-ja_en 1.0 + translate-en_vi 1.0"
    assert isinstance(stage.engine.translators["vi"], PivotTranslator)


def test_names_are_protected_through_the_model_and_the_pivot(store):
    text = "周南市に住んでいます。"
    _, received, _ = run_stage(store, ["en", "vi", "zh"], [final(0, text)], glossary=GLOSSARY)
    translations = updates(received)[0].translations
    assert translations["en"].startswith("Shunan City ") and "周南市" not in translations["en"]
    # No Vietnamese name in the glossary: the Hepburn reading, carried through ja→en and en→vi
    # (en→vi does not know the placeholder: it travels as the unknown token and comes back).
    assert translations["vi"].startswith("Shunanshi ") and "周南市" not in translations["vi"]
    assert "周南市" in translations["zh"]  # not a Latin script: left to the model
    _, plain, _ = run_stage(store, ["en"], [final(0, text)])
    assert "周南市" in updates(plain)[0].translations["en"]  # without the glossary the model copies it


def test_placeholders_are_single_tokens_for_every_model(store):
    for pair in (("ja", "en"), ("en", "vi")):
        tokens = ArgosTranslator(store.find(*pair)).tokenize("x⟦1⟧に⟦10⟧.")
        assert "⟦1⟧" in tokens and "⟦10⟧" in tokens


def test_a_name_the_model_drops_is_put_back_by_position(tmp_path):
    # This model turns the placeholder into another word, as a real model might.
    file = build_package(tmp_path / "drop.argosmodel", "ja", "en", JA_LINES, {**JA_EN, "⟦0⟧": "▁there"}, symbols=PLACEHOLDERS)
    store = PackageStore([tmp_path / "installed"])
    store.install(file)
    _, received, _ = run_stage(store, ["en"], [final(0, "こんにちは、周南市に住んでいます。")], glossary=GLOSSARY)
    english = updates(received)[0].translations["en"]
    assert "Shunan City" in english and "there" in english and "⟦" not in english


def test_cache_answers_repeated_phrases_and_feeds_the_pivot(store):
    stage, received, _ = run_stage(store, ["en", "vi"], [final(0, "こんにちは。"), final(1, "こんにちは。")])
    assert updates(received)[1].translations == updates(received)[0].translations
    en = stage.engine.translators["en"]
    vi = stage.engine.translators["vi"]
    assert isinstance(en, CachedTranslator) and vi.first is en  # one ja→en model and cache for both
    # caption 0: en misses, vi's ja→en step hits, en→vi misses; caption 1: all three hit
    assert (en.hits, en.misses) == (3, 1)
    assert (vi.second.hits, vi.second.misses) == (1, 1)


def test_cache_size_zero_turns_it_off(store):
    options = TranslateOptions(languages=["en"], cache_size=0)
    with build_stage(options, [], store=store) as stage:
        assert isinstance(stage.engine.translators["en"], ArgosTranslator)


class GatedTranslator:
    """Waits for the test to open the gate: a translation that is as slow as we like."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.calls: list[list[str]] = []

    def load(self) -> None:
        pass

    def translate(self, sentences):
        self.started.set()
        assert self.gate.wait(30)
        self.calls.append(sentences)
        return [f"<{s}>" for s in sentences]


def test_a_slow_translator_never_delays_japanese_captions():
    received: list[CaptionEvent] = []
    slow = GatedTranslator()
    stage = TranslationStage(CaptionTranslator({"en": slow}), [received.append])
    try:
        stage(final(0, "一つ目。"))
        assert slow.started.wait(10)  # the worker is inside the translator, and stays there
        stage(final(1, "二つ目。"))
        stage(final(2, "三つ目。"))
        # every Japanese final has reached the sink while the first translation is still running
        assert [(e.utterance_id, bool(e.translations)) for e in received] == [(0, False), (1, False), (2, False)]
    finally:
        slow.gate.set()
        stage.close()
    assert [(e.utterance_id, e.translations.get("en")) for e in received[3:]] == [
        (0, "<一つ目。>"), (1, "<二つ目。>"), (2, "<三つ目。>")
    ]


def test_stale_partials_are_dropped_and_finals_never():
    received: list[CaptionEvent] = []
    slow = GatedTranslator()
    stage = TranslationStage(CaptionTranslator({"en": slow}), [received.append], partials=True)
    try:
        stage(final(0, "一つ目。"))
        assert slow.started.wait(10)
        stage(partial(1, "二つ目、まだ", "二つ目、"))
        stage(partial(1, "二つ目、まだ途中、で", "二つ目、まだ途中、"))  # replaces the waiting partial
        stage(final(1, "二つ目、まだ途中、です。"))  # drops it: the final supersedes it
        stage(final(2, "三つ目。"))
    finally:
        slow.gate.set()
        stage.close()
    assert slow.calls == [["一つ目。"], ["二つ目、まだ途中、です。"], ["三つ目。"]]
    assert stage.stats.partials_dropped == 2 and stage.stats.finals == 3
    assert not any(e.kind == "partial" and e.update for e in received)


def test_partials_carry_the_translation_of_their_committed_part(store):
    received: list[CaptionEvent] = []
    translated = threading.Event()

    def sink(event):
        received.append(event)
        if event.update == "translation":
            translated.set()

    with build_stage(TranslateOptions(languages=["en"], partials=True), [sink], store=store) as stage:
        stage(partial(0, "こんにちは。住", "こんにちは。"))
        assert translated.wait(30)
        stage(partial(0, "こんにちは。住民", "こんにちは。"))  # same committed part: nothing new to translate
    first, update, later = received
    assert not first.translations
    assert update.kind == "partial" and update.translations == {"en": "hello."}
    assert update.details["translated_text"] == "こんにちは。"
    assert later.text == "こんにちは。住民" and later.translations == {"en": "hello."}  # carried at once
    assert stage.stats.partials == 1


def test_missing_pair_is_reported_once_and_the_rest_goes_on(store):
    stage, received, problems = run_stage(store, ["en", "ko"], [final(0, "こんにちは。"), final(1, "はい。")])
    assert len(problems) == 1
    assert "translate-ja_ko-*.argosmodel" in problems[0] and "captioner translate install" in problems[0]
    assert [set(e.translations) for e in updates(received).values()] == [{"en"}, {"en"}]
    assert stage.problems == problems


def test_a_model_that_fails_at_run_time_is_reported_once_and_captions_continue(store):
    too_long = "住" * 300 + "。"  # more positions than the tiny model has: CTranslate2 raises
    events = [final(0, too_long), final(1, too_long + "住" * 20), final(2, "こんにちは。")]  # two different errors
    stage, received, problems = run_stage(store, ["en"], events)
    assert [e.utterance_id for e in received if not e.translations] == [0, 1, 2]  # all Japanese shown
    assert len(problems) == 1 and "en: the model failed" in problems[0]
    assert stage.stats.failures == 2
    assert updates(received)[2].translations == {"en": "hello."}


def test_a_package_that_does_not_load_is_reported_and_captions_continue(store):
    (store.find("ja", "zh").model_dir / "model.bin").write_bytes(b"not a model")
    stage, received, problems = run_stage(store, ["en", "zh"], [final(0, "こんにちは。")])
    assert len(problems) == 1 and problems[0].startswith("zh: translate-ja_zh 1.0") and "does not load" in problems[0]
    assert updates(received)[0].translations == {"en": "hello."}


def test_sink_errors_do_not_stop_the_stage(store):
    received = []

    def broken(event):
        raise RuntimeError("display went away")

    options = TranslateOptions(languages=["en"])
    with build_stage(options, [broken, received.append], store=store) as stage:
        stage(final(0, "こんにちは。"))
    assert [bool(e.translations) for e in received] == [False, True]


def test_terminal_printer_prints_translations_under_their_caption(store):
    stream = io.StringIO()
    with build_stage(TranslateOptions(languages=["en", "vi"]), [TerminalPrinter(stream, live=False)], store=store) as stage:
        stage(final(0, "こんにちは。"))
    assert stream.getvalue() == "こんにちは。\n  [en] hello.\n  [vi] xin chào.\n"
