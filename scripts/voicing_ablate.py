"""Measurement tooling (not product code): `captioner dict ablate` with readings compared voicing-blind (か = が, は = ば = ぱ, ...):
does correcting ふくかわ to 福川 (registered ふくがわ) pay? Usage: voicing_ablate.py [--fold] BENCH.json..."""
import sys
import unicodedata

import dictionary.entries as entries

if "--fold" in sys.argv:
    sys.argv.remove("--fold")
    original = entries.extend_key

    def unvoiced(kana: str) -> str:
        base = unicodedata.normalize("NFD", kana)
        return unicodedata.normalize("NFC", base.replace("\u3099", "").replace("\u309a", ""))

    def extend_key(key: str, hiragana: str) -> str:
        return original(key, "".join(unvoiced(k) for k in hiragana))

    entries.extend_key = extend_key
    import importlib, pkgutil, dictionary
    for info in pkgutil.iter_modules(dictionary.__path__):
        module = importlib.import_module(f"dictionary.{info.name}")
        if getattr(module, "extend_key", None) is original:
            module.extend_key = extend_key

from captioner.app.cli import main
sys.exit(main(["dict", "ablate", *sys.argv[1:]]))
