"""Decoded text never holds U+FFFD: Whisper's real tokenizer writes many kanji as several
byte-level tokens, and a decoding cut by its length limit can stop inside one."""

from __future__ import annotations

import pytest

from captioner.engine.whisper import decode_tokens

pytestmark = pytest.mark.model


def test_an_incomplete_character_at_the_end_is_held_back(recognizer):
    tok = recognizer.tokenizer
    tokens = tok.encode("窓口で罹災証明書")
    assert "\ufffd" in tok.decode(tokens[:-3])  # the plain decoding shows the broken character
    for cut in range(1, len(tokens) + 1):
        text = decode_tokens(tok, tokens[:cut])
        assert "\ufffd" not in text
        assert "窓口で罹災証明書".startswith(text)  # whole characters only, nothing invented
    assert decode_tokens(tok, tokens) == "窓口で罹災証明書"


def test_bytes_that_form_no_character_are_dropped(recognizer):
    tok = recognizer.tokenizer
    lead = tok.encode("粗")[0]  # the first byte(s) of 粗, followed by something that does not continue it
    assert "\ufffd" in tok.decode([lead, *tok.encode("大ごみ")])
    assert decode_tokens(tok, [lead, *tok.encode("大ごみ")]) == "大ごみ"


def test_a_forced_prefix_is_in_the_text_once(recognizer, eval_dir):
    """CTranslate2 returns the forced prefix's tokens with the generated ones; the text holds
    the prefix once (it was written twice: 「はい、はい、…」, which then got committed)."""
    import numpy as np

    from captioner.engine.audio import FileSource

    audio = np.concatenate(list(FileSource(eval_dir / "d01.wav", pace=None).blocks()))
    free = recognizer.transcribe(audio).text
    head = free[:5]
    forced = recognizer.transcribe(audio, prefix=head).text
    assert forced.startswith(head) and not forced[len(head) :].startswith(head), forced
    assert len(forced) <= len(free) + 3
