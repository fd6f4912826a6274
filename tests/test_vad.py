"""VAD segmentation with the real webrtcvad on real speech."""

from __future__ import annotations

import json

import numpy as np
import pytest
from faster_whisper import decode_audio

from captioner.engine.vad import SAMPLE_RATE, VadOptions, VadSegmenter


def segment(audio: np.ndarray, options: VadOptions, block: int = 1000):
    segmenter = VadSegmenter(options)
    closed = []
    for i in range(0, len(audio), block):
        closed += segmenter.feed(audio[i : i + block]).closed
    return closed + segmenter.flush().closed


def test_session_utterances_are_found_with_pre_roll(eval_dir):
    audio = decode_audio(str(eval_dir / "session.wav"))
    refs = json.loads((eval_dir / "refs.json").read_text(encoding="utf-8"))
    utterances = segment(audio, VadOptions())
    assert len(refs) <= len(utterances) <= len(refs) + 3
    for ref in refs:
        covering = [u for u in utterances if u.start / SAMPLE_RATE < ref["end"] and u.end / SAMPLE_RATE > ref["start"]]
        assert covering, f"no utterance for {ref['id']}"
        assert covering[0].start / SAMPLE_RATE <= ref["start"], "onset cut (no pre-roll)"
        assert covering[-1].speech_end / SAMPLE_RATE >= ref["end"] - 0.1, "speech end cut"
    for u in utterances:
        assert len(u.samples()) == u.length


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_all_frame_sizes_find_the_utterance(eval_dir, frame_ms):
    audio = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), decode_audio(str(eval_dir / "d13.wav"))])
    utterances = segment(audio, VadOptions(frame_ms=frame_ms))
    assert len(utterances) >= 1
    onset = int(np.argmax(np.abs(audio) > 0.02))
    assert utterances[0].start <= onset


def test_energy_floor_ignores_very_quiet_audio(eval_dir):
    quiet = decode_audio(str(eval_dir / "d01.wav")) * 0.001  # about -60 dBFS
    assert segment(quiet, VadOptions(energy_floor_dbfs=-50)) == []
    assert segment(quiet * 1000, VadOptions(energy_floor_dbfs=-50)) != []


def test_silence_and_hum_give_no_utterance():
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    hum = (0.01 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    assert segment(np.zeros(5 * SAMPLE_RATE, np.float32), VadOptions()) == []
    assert segment(hum, VadOptions()) == []


def test_long_speech_is_cut_at_its_quietest_point(eval_dir):
    gap = np.zeros(int(0.15 * SAMPLE_RATE), np.float32)  # shorter than the hangover
    parts = [decode_audio(str(eval_dir / f"d0{i}.wav")) for i in range(1, 6)]
    audio = np.concatenate([p for part in parts for p in (part, gap)])
    options = VadOptions(max_utterance_s=8.0)
    utterances = segment(audio, options)
    assert len(utterances) >= 2
    assert all(u.length <= options.max_utterance_s * SAMPLE_RATE for u in utterances)
    first, second = utterances[0], utterances[1]
    assert second.start == first.end, "the cut must not drop audio"
    frame = SAMPLE_RATE * options.frame_ms // 1000
    energies = [float(np.sqrt(np.mean(audio[i : i + frame] ** 2))) for i in range(first.start, first.end, frame)]
    cut_energy = float(np.sqrt(np.mean(audio[first.end : first.end + frame] ** 2)))
    assert cut_energy <= np.percentile(energies, 10)


@pytest.mark.parametrize(
    "field, value",
    [("frame_ms", 25), ("aggressiveness", 4), ("max_utterance_s", 40.0), ("hangover_ms", -1)],
)
def test_invalid_options_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        VadSegmenter(VadOptions(**{field: value}))


def babble(eval_dir) -> np.ndarray:
    """24 s of counter noise: other voices (dev sentences, reversed) mixed."""
    voices = [decode_audio(str(eval_dir / f"d{n:02d}.wav"))[::-1] for n in range(5, 13)]
    return np.concatenate([np.sum([np.resize(v[i * 997 :], 3 * SAMPLE_RATE) for v in voices], axis=0) for i in range(8)])


def with_noise(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` with ``noise`` (repeated to its length) at ``snr_db``."""
    noise = np.resize(noise, len(speech))
    return (speech + noise * np.sqrt(power(speech) / power(noise) / 10 ** (snr_db / 10))).astype(np.float32)


def two_sentences(eval_dir) -> tuple[np.ndarray, int]:
    """Two dev sentences 1 s apart after 2 s of silence, and where the first one ends."""
    first, second = (decode_audio(str(eval_dir / f"{uid}.wav")) for uid in ("d03", "d02"))
    pause = np.zeros(SAMPLE_RATE, np.float32)
    return np.concatenate([pause, pause, first, pause, second, pause]), 2 * len(pause) + len(first)


def test_pauses_between_sentences_are_found_in_babble_at_10_db(eval_dir):
    """Counter noise at 10 dB SNR: webrtcvad calls it speech, so the 1 s pause between two
    sentences never reached the hangover; frames must also stand ``noise_margin_db`` above the
    room's noise level to count as voiced."""
    speech, end_of_first = two_sentences(eval_dir)
    noisy = with_noise(speech, babble(eval_dir), 10)
    pause = np.zeros(SAMPLE_RATE, np.float32)

    def closes_in_the_pause(utterances) -> bool:  # the first sentence's utterance is closed by the silence after it
        return any(
            end_of_first - 0.3 * SAMPLE_RATE <= u.speech_end and u.end <= end_of_first + len(pause) and u.end - u.speech_end >= 0.5 * SAMPLE_RATE
            for u in utterances
        )

    assert not closes_in_the_pause(segment(noisy, VadOptions(noise_margin_db=0)))
    adaptive = segment(noisy, VadOptions())
    assert closes_in_the_pause(adaptive), [(u.start / SAMPLE_RATE, u.end / SAMPLE_RATE) for u in adaptive]
    assert any(end_of_first < u.start < end_of_first + len(pause) for u in adaptive)  # the second sentence is its own


def first_partial_due(audio: np.ndarray, onset: int, rule) -> float:
    """Seconds after ``onset`` at which ``rule(utterance)`` first holds for the open utterance."""
    segmenter = VadSegmenter(VadOptions())
    for position in range(0, len(audio), 480):
        segmenter.feed(audio[position : position + 480])
        utterance = segmenter.current
        if utterance is not None and utterance.end > onset and rule(utterance):
            return (position + 480 - onset) / SAMPLE_RATE
    raise AssertionError("never due")


def test_the_first_partial_is_due_as_soon_in_babble_as_in_quiet(eval_dir):
    """400 ms of speech (the default first_partial_ms): at 10 dB SNR the noise floor leaves
    quiet frames of speech unvoiced, and waiting for 400 ms of voiced frames came later than in
    quiet. Eight dev sentences after 12 s of room noise (by then its level is known)."""
    samples, pre_roll = 400 * SAMPLE_RATE // 1000, VadOptions().pre_roll_ms * SAMPLE_RATE // 1000
    voiced_only = lambda u: u.voiced_samples >= samples  # noqa: E731  the rule before
    heard = lambda u: u.has_speech(samples, pre_roll)  # noqa: E731
    noise = babble(eval_dir)
    due: dict[str, list[float]] = {"quiet": [], "quiet before": [], "noisy": [], "noisy before": []}
    for uid in ("d01", "d02", "d03", "d04", "d13", "d14", "d15", "d16"):
        lead = np.zeros(12 * SAMPLE_RATE, np.float32)
        quiet = np.concatenate([lead, decode_audio(str(eval_dir / f"{uid}.wav")), lead[:SAMPLE_RATE]])
        for name, audio in (("quiet", quiet), ("noisy", with_noise(quiet, noise, 10))):
            due[name].append(first_partial_due(audio, len(lead), heard))
            due[f"{name} before"].append(first_partial_due(audio, len(lead), voiced_only))
    mean = {name: float(np.mean(values)) for name, values in due.items()}
    assert mean["noisy before"] >= mean["quiet before"] + 0.03, mean  # the delay the rule removes
    assert mean["noisy"] <= mean["noisy before"] - 0.03, mean
    assert mean["noisy"] <= mean["quiet"] + 0.03, mean
    assert mean["quiet"] <= mean["quiet before"], mean  # never later than before


def power(audio: np.ndarray) -> float:
    """Mean power of the audio that is not silence."""
    return float(np.mean(audio[np.abs(audio) > 1e-4] ** 2))


def test_hold_keeps_an_utterance_open_through_one_pause(eval_dir):
    """``hold`` (the pipeline heard a sentence going on) lets a pause longer than the hangover
    pass; the next voiced frame restores the hangover, so the pause after the sentence closes it."""
    speech = decode_audio(str(eval_dir / "d13.wav"))
    pause = np.zeros(SAMPLE_RATE, np.float32)  # 1 s: longer than the 800 ms hangover
    audio = np.concatenate([speech, pause, speech, pause, speech])
    assert len(segment(audio, VadOptions())) == 3
    segmenter, closed, held = VadSegmenter(VadOptions()), [], False
    for i in range(0, len(audio), 480):
        closed += segmenter.feed(audio[i : i + 480]).closed
        if not held and segmenter.current is not None and segmenter.silence >= SAMPLE_RATE // 2:
            segmenter.hold(1200)  # at the first pause only
            held = True
    closed += segmenter.flush().closed
    assert len(closed) == 2  # the first pause held, the second closed after the 800 ms hangover
    assert closed[0].length > 2 * len(speech)
