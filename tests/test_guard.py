import pytest

from captioner.engine.guard import GuardOptions, check, strip_repetition
from captioner.engine.recognizer import Hypothesis, compression_ratio


def hyp(text: str, logprob: float = -0.2, no_speech: float = 0.01) -> Hypothesis:
    return Hypothesis(text, logprob, no_speech, compression_ratio(text), 0.1)


def test_ordinary_speech_passes():
    assert rejection(hyp("印鑑証明書は一通につき三百円かかります。"), GuardOptions()) is None


def rejection(hypothesis: Hypothesis, options: GuardOptions) -> str | None:
    return check(hypothesis, options).reason


def test_silence_and_low_confidence_are_dropped():
    assert rejection(hyp(""), GuardOptions()) == "empty"
    assert rejection(hyp("。"), GuardOptions()) == "empty"
    assert rejection(hyp("うーん", logprob=-1.2, no_speech=0.8), GuardOptions()) == "no speech"
    assert rejection(hyp("ぱぴぷ", logprob=-2.0), GuardOptions()) == "low confidence"


def test_known_phrase_needs_strong_evidence():
    options = GuardOptions()
    weak = hyp("ご視聴ありがとうございました", logprob=-0.7, no_speech=0.3)
    strong = hyp("ありがとうございました。", logprob=-0.1, no_speech=0.01)
    assert rejection(weak, options) == "known hallucination with weak evidence"
    assert rejection(strong, options) is None


def test_loop_after_real_speech_is_collapsed_and_kept():
    loop = "こちらにお名前と電話番号を書きください。" * 6
    verdict = check(hyp(loop), GuardOptions())
    assert verdict.reason is None and verdict.text == "こちらにお名前と電話番号を書きください。"


def test_loop_of_a_sound_is_dropped():
    assert rejection(hyp("ピッピッピッピッピッピッ", logprob=-0.2, no_speech=0.6), GuardOptions()) == "repetition loop"
    text = "こちらにお名前を書きください。お名前を書きください。お名前"
    assert strip_repetition(text) == "こちらにお名前を書きください。"


def test_a_text_that_is_only_a_loop_needs_no_low_logprob_to_be_no_speech():
    # room noise decoded as スタッフの×3: the repeats lift avg_logprob just above the threshold
    noise = hyp("スタッフのスタッフのスタッフ", logprob=-0.97, no_speech=0.57)
    assert rejection(noise, GuardOptions()) == "no speech"
    speech_then_loop = hyp("こんにちは、音が変わらず、音が変わらず、音が変わらず", logprob=-0.97, no_speech=0.57)
    assert rejection(speech_then_loop, GuardOptions()) is None
    assert rejection(hyp("スタッフのスタッフのスタッフ", logprob=-0.97, no_speech=0.1), GuardOptions()) is None


def test_people_may_repeat_short_words():
    assert strip_repetition("はいはい、わかりました") == "はいはい、わかりました"
    assert strip_repetition("はいはいはいはいはい") == "はい"


def test_loop_copies_that_differ_in_punctuation_are_one_loop():
    text = "こちらに、お名前と電話番号を書きください。こちらに、お名前と電話番号を書きください"
    assert strip_repetition(text) == "こちらに、お名前と電話番号を書きください。"


def test_a_text_that_starts_itself_over_loses_the_restart():
    assert strip_repetition("西浦の漁港の近くに 臨時の駐車場があります西浦の漁港の近くに 臨") == "西浦の漁港の近くに 臨時の駐車場があります"
    assert strip_repetition("上右田の説明会は、来週開きます。上右田の説明会は") == "上右田の説明会は、来週開きます。"


@pytest.mark.parametrize(
    "text",
    [
        "お名前をお願いします。お名前を",  # a short repeat is speech
        "住民票の写しですね、住民票の写しは一通三百円です。",
        "サービスサービスを",
        "ソーセージとソセージ",  # ー is part of a word, not punctuation
    ],
)
def test_what_people_say_is_not_a_loop(text):
    assert strip_repetition(text) == text


def test_a_short_word_looped_with_its_punctuation_is_a_loop():
    assert strip_repetition("やつしろ、やつしろ、") == "やつしろ、"  # 5 characters written: a loop from 2 copies
    assert strip_repetition("はい、はい、わかりました") == "はい、はい、わかりました"  # people do say this


def test_a_decoding_of_nothing_but_prompted_names_needs_strong_evidence():
    options = GuardOptions()
    weak = Hypothesis("防府市。", avg_logprob=-0.7, no_speech_prob=0.1, compression_ratio=1.0, seconds=0.1)
    assert check(weak, options, prompted=("防府市", "富海")).reason == "prompted words with weak evidence"
    assert check(weak, options).reason is None  # not prompted: an ordinary short caption
    strong = Hypothesis("防府市。", avg_logprob=-0.2, no_speech_prob=0.05, compression_ratio=1.0, seconds=0.1)
    assert check(strong, options, prompted=("防府市",)).text == "防府市。"
    sentence = Hypothesis("防府市の窓口です。", avg_logprob=-0.7, no_speech_prob=0.1, compression_ratio=1.0, seconds=0.1)
    assert check(sentence, options, prompted=("防府市",)).reason is None  # more than the name was heard


@pytest.mark.parametrize(
    ("text", "rejected"),
    [
        ("fukushi no madoguchi wa nikai desu", True),  # romaji: a failed Japanese decoding
        ("Thank you for watching.", True),
        ("ATMは一階にあります", False),  # Latin letters inside Japanese are Japanese
        ("QRコードをNHKのアプリで読み取ってください", False),
        ("マイナンバーカードをお持ちください", False),
    ],
)
def test_japanese_in_latin_letters_is_a_failed_decoding(text, rejected):
    decoded = hyp(text)
    assert (check(decoded, GuardOptions(), language="ja").reason == "wrong script") is rejected
    assert check(decoded, GuardOptions(), language="en").reason is None  # English captions are Latin


def test_without_a_no_speech_probability_a_few_characters_over_long_audio_are_noise():
    """sherpa-onnx models give no no-speech probability and write 1-3 characters on noise."""
    options = GuardOptions()

    def sparse(text: str, seconds: float | None) -> str | None:
        return check(hyp(text, logprob=0.0, no_speech=0.0), options, audio_seconds=seconds).reason

    assert sparse("豊富市", 4.3) == "sparse text"  # three characters over a long beep
    assert sparse("豊", 0.6) == "sparse text"  # one character alone
    assert sparse("はい", 1.1) is None  # はい with pre-roll and tail
    assert sparse("窓口です", 4.3) is None  # more than a few characters is not this rule's
    assert sparse("豊", None) is None  # Whisper: its no-speech probability decides
