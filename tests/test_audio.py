"""Audio sources: real files decoded by PyAV, and MicrophoneSource with an injected sounddevice."""

from __future__ import annotations

import os
import sys
import threading
import time
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from captioner.core.errors import AudioDeviceError, AudioFileError
from captioner.engine.audio import (
    SAMPLE_RATE,
    AudioOptions,
    FileSource,
    InputDevice,
    MicrophoneSource,
    format_devices,
    list_input_devices,
)
from captioner.engine.recovery import open_live_source
from tests.conftest import EVAL_DIR

DEV_DIR = EVAL_DIR
BLOCK = SAMPLE_RATE * 30 // 1000


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    """Write float audio (frames,) or (frames, channels) in [-1, 1] as 16-bit PCM."""
    frames = audio.reshape(len(audio), -1) if audio.ndim == 1 else audio
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(frames * 32767).astype("<i2").tobytes())
    return path


def sine(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(audio: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[np.argmax(spectrum)])


def read_all(source) -> list[np.ndarray]:
    return list(source.blocks())


def check_blocks(blocks: list[np.ndarray], size: int = BLOCK) -> np.ndarray:
    assert blocks, "no blocks"
    for block in blocks:
        assert block.dtype == np.float32 and block.ndim == 1
    assert all(len(b) == size for b in blocks[:-1])
    assert 0 < len(blocks[-1]) <= size
    return np.concatenate(blocks)


def eval_file(name: str) -> Path:
    path = DEV_DIR / name
    if not path.is_file():
        message = f"evaluation audio not found at {path} (the shared folder beside the checkout)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


# --- FileSource ------------------------------------------------------------------------------


def test_stereo_44k_becomes_16k_mono(tmp_path):
    path = write_wav(tmp_path / "stereo.wav", np.stack([sine(440, 2.0, 44100)] * 2, axis=1), 44100)
    audio = check_blocks(read_all(FileSource(path)))
    assert abs(len(audio) - 2.0 * SAMPLE_RATE) <= BLOCK
    assert abs(peak_hz(audio) - 440) < 5
    assert 0.3 < np.abs(audio).max() <= 1.0


def test_8k_mono_is_upsampled(tmp_path):
    path = write_wav(tmp_path / "phone.wav", sine(1000, 1.5, 8000), 8000)
    audio = check_blocks(read_all(FileSource(path)))
    assert abs(len(audio) - 1.5 * SAMPLE_RATE) <= BLOCK
    assert abs(peak_hz(audio) - 1000) < 5
    assert np.abs(audio).max() == pytest.approx(0.5, abs=0.05)


def test_16k_pcm_passes_through_unchanged(tmp_path):
    pcm = np.random.default_rng(0).integers(-30000, 30000, SAMPLE_RATE, dtype=np.int16)
    path = tmp_path / "pcm.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.astype("<i2").tobytes())
    audio = check_blocks(read_all(FileSource(path)))
    np.testing.assert_allclose(audio, pcm / 32768.0, atol=1e-6)


def test_block_ms_sets_the_block_size(tmp_path):
    path = write_wav(tmp_path / "a.wav", sine(300, 1.05, SAMPLE_RATE), SAMPLE_RATE)
    blocks = read_all(FileSource(path, block_ms=100))
    check_blocks(blocks, size=1600)
    assert [len(b) for b in blocks] == [1600] * 10 + [800]


def test_eval_recording_decodes_to_its_samples():
    path = eval_file("d01.wav")
    with wave.open(str(path), "rb") as src:
        assert (src.getframerate(), src.getnchannels(), src.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        expected = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2") / 32768.0
    audio = check_blocks(read_all(FileSource(path)))
    assert len(audio) == len(expected)
    np.testing.assert_allclose(audio, expected, atol=1e-6)
    assert np.sqrt(np.mean(audio**2)) > 0.01  # speech, not silence


def test_video_without_audio_is_an_error(tmp_path):
    path = tmp_path / "silent-film.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(AudioFileError, match="No audio stream") as error:
        FileSource(path)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.wav"
    with pytest.raises(AudioFileError, match="not found") as error:
        FileSource(path)
    assert str(path) in str(error.value)


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20, encoding="utf-8")
    with pytest.raises(AudioFileError) as error:
        FileSource(path)
    assert str(path) in str(error.value)


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(AudioFileError) as error:
        FileSource(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_empty_wav_fails_when_read(tmp_path):
    path = write_wav(tmp_path / "empty.wav", np.zeros((0, 1), np.float32), SAMPLE_RATE)
    source = FileSource(path)  # a valid header: the problem shows once the file ends
    with pytest.raises(AudioFileError, match="no audio") as error:
        read_all(source)
    assert str(path) in str(error.value)


def test_unpaced_reading_is_fast(tmp_path):
    path = write_wav(tmp_path / "long.wav", sine(200, 10.0, 44100), 44100)
    started = time.monotonic()
    audio = check_blocks(read_all(FileSource(path, pace=None)))
    assert time.monotonic() - started < 5.0  # 10 s of audio; a loose bound, not a benchmark
    assert abs(len(audio) - 10 * SAMPLE_RATE) <= BLOCK


def test_paced_reading_is_never_early(tmp_path):
    path = write_wav(tmp_path / "a.wav", sine(200, 1.0, SAMPLE_RATE), SAMPLE_RATE)
    started = time.monotonic()
    blocks = read_all(FileSource(path, pace=8.0))
    # block k is due at (k + 1) * 30 ms / 8; sleeping never ends early: only a lower bound
    assert time.monotonic() - started >= len(blocks) * 0.030 / 8.0 - 0.030


def test_close_from_another_thread_ends_blocks(tmp_path):
    path = write_wav(tmp_path / "long.wav", sine(200, 10.0, SAMPLE_RATE), SAMPLE_RATE)
    source = FileSource(path, pace=1.0)
    closer = threading.Timer(0.3, source.close)
    closer.start()
    try:
        blocks = read_all(source)  # would take 10 s without close()
    finally:
        closer.cancel()
        closer.join()
    assert 0 < len(blocks) < 10 * SAMPLE_RATE // BLOCK
    source.close()  # idempotent
    assert read_all(source) == []  # a closed source stays closed


def test_bad_pace():
    with pytest.raises(ValueError, match="pace"):
        FileSource(eval_file("d01.wav"), pace=0)


# --- options and open_live_source -----------------------------------------------------------------


@pytest.mark.parametrize("block_ms", [0, 9, 1001, -30, 30.0, True, "30"])
def test_bad_block_ms(block_ms):
    with pytest.raises(ValueError, match="block_ms must be"):
        AudioOptions(block_ms=block_ms).validate()


def test_device_may_be_an_index_or_a_name():
    AudioOptions(device=3).validate()  # YAML reads `device: 3` as a number
    AudioOptions(device="USB").validate()
    with pytest.raises(ValueError, match="device"):
        AudioOptions(device=["USB"]).validate()


@pytest.mark.parametrize("block_ms", [10, 20, 30, 1000])
def test_good_block_ms(block_ms):
    AudioOptions(block_ms=block_ms).validate()


def test_open_source_with_a_path_reads_the_file(tmp_path):
    path = write_wav(tmp_path / "a.wav", sine(500, 0.5, 22050), 22050)
    source = open_live_source(AudioOptions(block_ms=20), str(path), pace=None)
    assert isinstance(source, FileSource)
    check_blocks(read_all(source), size=320)


def test_open_source_validates_options(tmp_path):
    with pytest.raises(ValueError, match="block_ms"):
        open_live_source(AudioOptions(block_ms=5), str(tmp_path / "a.wav"), pace=None)


# --- MicrophoneSource with an injected sounddevice module ------------------------------------


class FakePortAudioError(Exception):
    pass


class FakeStream:
    """Plays ``sd.signal`` through the callback from its own thread, like PortAudio."""

    def __init__(self, sd, device, samplerate, channels, dtype, blocksize, callback, finished_callback):
        assert dtype == "float32"
        self.sd, self.samplerate, self.channels, self.blocksize = sd, samplerate, channels, blocksize
        self.callback, self.finished_callback = callback, finished_callback
        self.active = False
        self.closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        sd.streams.append(self)

    def start(self):
        self.active = True
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self):
        signal = self.sd.signal.reshape(len(self.sd.signal), -1)
        for i in range(0, len(signal) - self.blocksize + 1, self.blocksize):
            if self._stop.wait(0.001):
                return
            self.callback(np.ascontiguousarray(signal[i : i + self.blocksize]), self.blocksize, None, None)
        if self.sd.at_end == "finish":  # the device went away: PortAudio ends the stream
            self.active = False
            self.finished_callback()
        # "hang": stay active and deliver nothing, as some drivers do when unplugged

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.active:
            self.active = False
            self.finished_callback()

    def close(self):
        self.closed = True


class FakeSoundDevice:
    """The part of the sounddevice module that captioner.engine.audio uses."""

    PortAudioError = FakePortAudioError

    def __init__(self, devices, default=None, accepts=None, signal=None, at_end="finish", open_error=None):
        self.devices = [dict(d, index=i) for i, d in enumerate(devices)]
        self.default = default
        self.accepts = accepts  # None: any format
        self.signal = np.zeros((0, 1), np.float32) if signal is None else signal
        self.at_end = at_end
        self.open_error = open_error
        self.streams: list[FakeStream] = []

    def query_devices(self, kind=None):
        if kind is None:
            return self.devices
        if self.default is None:
            raise FakePortAudioError("no default input device")
        return self.devices[self.default]

    def check_input_settings(self, device, samplerate, channels, dtype):
        if self.accepts is not None and (samplerate, channels) not in self.accepts:
            raise FakePortAudioError(f"Invalid sample rate {samplerate} / channels {channels}")

    def InputStream(self, **kwargs):  # noqa: N802 - sounddevice's name
        if self.open_error:
            raise FakePortAudioError(self.open_error)
        return FakeStream(self, **kwargs)


def usb_mic(**kwargs) -> FakeSoundDevice:
    devices = [
        {"name": "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "max_input_channels": 2, "max_output_channels": 2,
         "default_samplerate": 48000.0},
        {"name": "HDMI 0", "max_input_channels": 0, "max_output_channels": 8, "default_samplerate": 48000.0},
        {"name": "USB Audio Device: Counter Mic (hw:2,0)", "max_input_channels": 2, "max_output_channels": 0,
         "default_samplerate": 44100.0},
    ]
    return FakeSoundDevice(devices, **kwargs)


def record(source: MicrophoneSource, limit: float = 10.0) -> tuple[list[np.ndarray], BaseException | None]:
    """Read blocks() in a thread so that a hang fails the test instead of blocking it."""
    blocks: list[np.ndarray] = []
    errors: list[BaseException] = []

    def run():
        try:
            for block in source.blocks():
                blocks.append(block)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)

    reader = threading.Thread(target=run)
    reader.start()
    reader.join(limit)
    if reader.is_alive():
        source.close()
        reader.join()
        pytest.fail(f"blocks() did not end within {limit} s")
    return blocks, (errors[0] if errors else None)


def test_list_input_devices_keeps_inputs_and_marks_the_default():
    devices = list_input_devices(usb_mic(default=2))
    assert [d.index for d in devices] == [0, 2]
    assert devices[1] == InputDevice(2, "USB Audio Device: Counter Mic (hw:2,0)", 2, 44100.0, True)
    assert not devices[0].is_default


def test_format_devices():
    text = format_devices(list_input_devices(usb_mic(default=2)))
    assert "  0: HDA Intel PCH" in text
    assert "*   2: USB Audio Device: Counter Mic (hw:2,0)  (2 ch, 44100 Hz)" in text
    assert "HDMI" not in text
    assert "no audio input devices" in format_devices([])


def test_device_that_cannot_record_16k_mono_is_converted():
    stereo = np.stack([sine(440, 2.0, 44100), sine(440, 2.0, 44100)], axis=1)
    sd = usb_mic(default=2, accepts={(44100, 2)}, signal=stereo)
    source = MicrophoneSource("usb", sd_module=sd)
    assert (source.rate, source.channels, source.name) == (44100, 2, "USB Audio Device: Counter Mic (hw:2,0)")
    blocks, error = record(source)
    assert isinstance(error, AudioDeviceError) and "stopped delivering" in str(error)  # the fake device ends
    audio = check_blocks(blocks)
    assert abs(len(audio) - 2.0 * SAMPLE_RATE) <= 2 * BLOCK
    assert abs(peak_hz(audio) - 440) < 5
    assert np.abs(audio[BLOCK:]).max() == pytest.approx(0.5, abs=0.05)  # averaged, not summed
    assert sd.streams[0].closed


def test_device_by_index_and_default():
    sd = usb_mic(default=2)
    assert MicrophoneSource("0", sd_module=sd).device.index == 0
    assert MicrophoneSource("", sd_module=sd).device.index == 2
    assert MicrophoneSource("hda intel", sd_module=sd).device.index == 0


@pytest.mark.parametrize("spec", ["Shure MV7", "1", "7"])
def test_unknown_device_lists_the_inputs(spec):
    with pytest.raises(AudioDeviceError) as error:
        MicrophoneSource(spec, sd_module=usb_mic(default=2))
    message = str(error.value)
    assert spec in message and "Available input devices" in message
    assert "0: HDA Intel PCH" in message and "2: USB Audio Device" in message


def test_no_devices_at_all():
    with pytest.raises(AudioDeviceError, match="No audio input devices were found"):
        MicrophoneSource("", sd_module=FakeSoundDevice([]))


def test_no_default_device():
    with pytest.raises(AudioDeviceError, match="no default audio input device") as error:
        MicrophoneSource("", sd_module=usb_mic(default=None))
    assert "2: USB Audio Device" in str(error.value)


def test_busy_device_lists_the_inputs():
    with pytest.raises(AudioDeviceError, match="Device unavailable") as error:
        MicrophoneSource("usb", sd_module=usb_mic(default=2, open_error="Device unavailable [PaErrorCode -9985]"))
    assert "Cannot open audio input device 2" in str(error.value)
    assert "0: HDA Intel PCH" in str(error.value)


def test_device_that_refuses_every_format():
    with pytest.raises(AudioDeviceError, match="cannot be used"):
        MicrophoneSource("usb", sd_module=usb_mic(default=2, accepts=set()))


def test_stream_that_goes_quiet_raises_instead_of_hanging():
    sd = usb_mic(default=2, signal=sine(300, 0.3, SAMPLE_RATE), at_end="hang")
    source = MicrophoneSource("usb", sd_module=sd, stall_timeout=0.5)
    blocks, error = record(source)
    assert len(blocks) == 10
    assert isinstance(error, AudioDeviceError) and "No audio from input device" in str(error)
    assert sd.streams[0].closed


def test_close_from_another_thread_stops_the_stream():
    sd = usb_mic(default=2, signal=np.zeros((SAMPLE_RATE * 60, 1), np.float32))
    source = MicrophoneSource("usb", sd_module=sd)
    closer = threading.Timer(0.2, source.close)
    closer.start()
    blocks, error = record(source)
    closer.join()
    assert error is None
    assert blocks and sum(map(len, blocks)) < 60 * SAMPLE_RATE
    stream = sd.streams[0]
    assert stream.closed and not stream.active and not stream._thread.is_alive()
    source.close()  # idempotent


def test_closed_before_reading_yields_nothing():
    sd = usb_mic(default=2, signal=np.zeros((SAMPLE_RATE, 1), np.float32))
    source = MicrophoneSource("usb", sd_module=sd)
    source.close()
    assert record(source) == ([], None)
    assert sd.streams[0].closed and sd.streams[0]._thread is None


class _NoPortAudio:
    """An import hook that fails like sounddevice does when libportaudio2 is missing."""

    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


def test_missing_portaudio_says_what_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    with pytest.raises(AudioDeviceError, match="apt-get install libportaudio2"):
        list_input_devices()
