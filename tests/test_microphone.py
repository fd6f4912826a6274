"""The real microphone path: PortAudio (ALSA) → PulseAudio with a null sink as the microphone.

What ``paplay --device=virt`` plays comes back through ``virt.monitor``, the default source.
The ``pulse`` fixture (tests/conftest.py, a private server) skips the tests when the Debian
packages are missing, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from captioner.core.errors import AudioDeviceError
from captioner.engine.audio import (
    SAMPLE_RATE,
    MicrophoneSource,
    list_input_devices,
    refresh_devices,
)

pytestmark = pytest.mark.microphone

from tests.conftest import EVAL_DIR
from tests.pulse_support import SINK, null_sink_module

D01 = EVAL_DIR / "d01.wav"


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as src:
        assert (src.getframerate(), src.getnchannels(), src.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        return np.frombuffer(src.readframes(src.getnframes()), dtype="<i2") / 32768.0


def envelope(audio: np.ndarray, frame: int = 320) -> np.ndarray:
    """RMS per 20 ms frame."""
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    return np.sqrt(np.mean(frames**2, axis=1))


def best_envelope_match(recorded: np.ndarray, reference: np.ndarray) -> float:
    """The highest Pearson correlation of the reference envelope over all placements."""
    rec, ref = envelope(recorded), envelope(reference)
    rec = np.concatenate([rec, np.zeros(len(ref))])  # the end of the playback may be cut off
    ref = (ref - ref.mean()) / ref.std()
    best = -1.0
    for lag in range(len(rec) - len(ref) + 1):
        window = rec[lag : lag + len(ref)]
        if window.std() > 0:
            best = max(best, float(np.mean(ref * (window - window.mean()) / window.std())))
    return best


def run_in_thread(target, limit: float):
    """Run ``target()``; fail the test if it has not returned after ``limit`` seconds."""
    outcome: dict[str, object] = {}

    def run():
        try:
            outcome["value"] = target()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            outcome["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(limit)
    return thread, outcome


def test_pulse_devices_are_listed(pulse):
    names = {device.name for device in list_input_devices()}
    assert {"pulse", "default"} <= names, names


@pytest.mark.parametrize("device", ["pulse", ""])
def test_records_what_is_played(pulse, device):
    reference = read_wav(D01)
    source = MicrophoneSource(device=device)
    recorded: list[np.ndarray] = []

    def capture() -> None:
        player = None
        played_until = None
        for block in source.blocks():
            if player is None:
                # start once audio flows: PortAudio's first stream in a process starts ~2 s late
                player = subprocess.Popen(["paplay", f"--device={SINK}", str(D01)])
            recorded.append(block)
            if played_until is None and player.poll() is not None:
                played_until = time.monotonic()
            if played_until is not None and time.monotonic() - played_until > 0.5:
                break
        if player is not None:
            player.wait(timeout=10)
            assert player.returncode == 0

    thread, outcome = run_in_thread(capture, limit=20)
    source.close()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    audio = np.concatenate(recorded)
    assert len(audio) >= len(reference)
    assert all(block.dtype == np.float32 and block.shape == (480,) for block in recorded)
    rms, reference_rms = np.sqrt(np.mean(audio**2)), np.sqrt(np.mean(reference**2))
    assert rms > 0.25 * reference_rms, (rms, reference_rms)  # speech, not silence
    assert best_envelope_match(audio, reference) > 0.8


@pytest.mark.parametrize("spec", ["no-such-microphone", "99"])
def test_unknown_device_lists_the_real_devices(pulse, spec):
    with pytest.raises(AudioDeviceError) as error:
        MicrophoneSource(device=spec)
    message = str(error.value)
    assert spec in message and "Available input devices" in message
    assert ": pulse" in message and ": default" in message


def test_unplugging_the_virtual_microphone(pulse):
    """Unloading the null sink while recording from ``pulse`` must not hang or crash.

    Observed (PulseAudio 16.1, PortAudio 19.6 ALSA host API, module-always-sink loaded):
    the stream gets no audio for about 2 s, then PulseAudio moves it to the
    ``auto_null.monitor`` source that module-always-sink creates, and blocks() keeps yielding
    silence without an error. Without a fallback source (or when the server exits) PortAudio
    ends the stream and blocks() raises AudioDeviceError at once; a stream that stays active
    but delivers nothing raises after ``stall_timeout`` (both covered in test_audio.py).
    """
    source = MicrophoneSource(device="pulse")
    after_unplug: list[np.ndarray] = []

    def capture() -> None:
        unplugged_at = None
        for block in source.blocks():
            if unplugged_at is None:
                pulse.unload_sink()
                unplugged_at = time.monotonic()
            else:
                after_unplug.append(block)
            if time.monotonic() - unplugged_at > 4.0:
                break

    try:
        thread, outcome = run_in_thread(capture, limit=15)
        hung = thread.is_alive()
        source.close()
        thread.join()
    finally:
        pulse.load_sink()  # plug it back in for the tests that follow
        refresh_devices()
    assert not hung, "blocks() hung after the device was unplugged"
    error = outcome.get("error")
    if error is not None:
        assert isinstance(error, AudioDeviceError), repr(error)
    else:
        assert after_unplug, "blocks() ended without an error or any audio after the unplug"
    assert null_sink_module() is not None


@pytest.mark.model
def test_live_captions_from_the_virtual_microphone(pulse, tmp_path):
    """`captioner run` on the default microphone captions what the null sink plays."""
    import json
    import signal
    import sys

    from captioner.core.metrics import cer

    reference = "徳山駅の北口から、市役所行きのバスが出ています。"
    process = subprocess.Popen(
        [sys.executable, "-m", "captioner", "run", "--jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(4)  # model load and PortAudio's slow first start
        for _ in range(2):
            subprocess.run(["paplay", f"--device={SINK}", str(EVAL_DIR / "d03.wav")], check=True, timeout=30)
            time.sleep(1.5)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    finals = [e["text"] for e in map(json.loads, stdout.splitlines()) if e["kind"] == "final" and e["text"]]
    assert finals, stderr
    assert min(cer([reference], [text]) for text in finals) < 0.35, finals
