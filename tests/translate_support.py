"""Tiny real Argos packages for the translation tests (built with captioner.app.bench.tiny_argos)."""

from __future__ import annotations

from pathlib import Path

from captioner.app.bench.tiny_argos import build_package

JA_LINES = [
    "こんにちは。",
    "住民票の写しをください。",
    "周南市に住んでいます。",
    "徳山駅の近くです。",
    "マイナンバーカードをお持ちですか？",
    "こちらの用紙にご記入ください。",
    "番号札をお取りになってお待ちください。",
    "転入届は二番の窓口です。",
    "本人確認書類はありますか？",
]
EN_LINES = [
    "hello.",
    "please wait.",
    "residence certificate, please.",
    "do you have your card?",
    "thank you.",
]
PLACEHOLDERS = [f"⟦{i}⟧" for i in range(10)]

# Source piece → target piece. ▁ is a space; a piece without a mapping is copied.
JA_EN = {"こんにちは": "▁hello", "住民票": "▁residence▁certificate", "ください": "▁please", "。": ".", "？": "?"}
EN_VI = {"hello": "xin▁chào", "please": "vui▁lòng", "residence": "cư▁trú", "certificate": "giấy", "wait": "chờ"}
JA_ZH = {"こんにちは": "你好", "住民票": "住民票", "ください": "请", "。": "。"}


def make_packages(folder: Path) -> dict[str, Path]:
    """ja→en (knows the placeholders), en→vi (does not: they travel as unknown tokens), ja→zh."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "ja_en": build_package(folder / "ja_en.argosmodel", "ja", "en", JA_LINES, JA_EN, symbols=PLACEHOLDERS),
        "en_vi": build_package(folder / "en_vi.argosmodel", "en", "vi", EN_LINES, EN_VI),
        "ja_zh": build_package(folder / "ja_zh.argosmodel", "ja", "zh", JA_LINES, JA_ZH, symbols=PLACEHOLDERS),
    }
