"""A counter runs all day: the microphone comes and goes, a decoding fails now and then.

Fast tests use stand-in devices (a list of blocks that ends with the device being unplugged);
the ``microphone`` tests unplug a real PulseAudio device (tests/conftest.py's private server)
while audio plays, and plug it in again.
"""

from __future__ import annotations

import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from captioner.app.config import Config
from captioner.app.sinks import FinalsCollector
from captioner.core.errors import AudioDeviceError
from captioner.engine.audio import SAMPLE_RATE, AudioOptions, FileSource
from captioner.engine.pipeline import CaptionPipeline
from captioner.engine.recognizer import Capabilities, Hypothesis
from captioner.engine.recovery import (
    MIC_CLIPPING,
    MIC_DISCONNECTED,
    MIC_SILENT,
    LevelWatch,
    ResilientMicrophone,
    open_live_source,
)
from tests.conftest import EVAL_DIR

BLOCK = 480  # 30 ms


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as src:
        return (np.frombuffer(src.readframes(src.getnframes()), dtype="<i2") / 32768.0).astype(np.float32)


def as_blocks(audio: np.ndarray) -> list[np.ndarray]:
    return [audio[i : i + BLOCK] for i in range(0, len(audio) - BLOCK + 1, BLOCK)]


class FakeDevice:
    """Yields its blocks at real-time pace (or ``pace`` times faster), then is 'unplugged'."""

    def __init__(self, name: str, blocks: list[np.ndarray], pace: float = 1.0, unplug: bool = True) -> None:
        self.name = name
        self._blocks = blocks
        self.pace = pace
        self.unplug = unplug
        self.closed = threading.Event()

    def blocks(self):
        for block in self._blocks:
            if self.closed.wait(len(block) / SAMPLE_RATE / self.pace) if self.pace < 1e6 else self.closed.is_set():
                return
            yield block
        if self.unplug:
            raise AudioDeviceError(f"Audio input device 0: {self.name} stopped delivering audio (disconnected)")
        self.closed.wait()

    def close(self) -> None:
        self.closed.set()


class FakeDevices:
    """What is plugged in: ``name → list of FakeDevice`` handed out in turn."""

    def __init__(self) -> None:
        self.plugged: dict[str, list[FakeDevice]] = {}
        self.opened: list[str] = []
        self.lock = threading.Lock()

    def plug(self, spec: str, device: FakeDevice) -> None:
        with self.lock:
            self.plugged.setdefault(spec, []).append(device)

    def open(self, spec: str, block_ms: int) -> FakeDevice:
        with self.lock:
            queue = self.plugged.get(spec)
            if not queue:
                raise AudioDeviceError(f"Audio input device {spec!r} not found.")
            self.opened.append(spec)
            return queue.pop(0)


class Statuses:
    def __init__(self) -> None:
        self.seen: list[tuple[float, str | None]] = []
        self.t0 = time.monotonic()

    def __call__(self, text: str | None) -> None:
        self.seen.append((time.monotonic() - self.t0, text))

    @property
    def texts(self) -> list[str | None]:
        return [text for _, text in self.seen]


def tone(seconds: float, level: float = 0.1) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_device_missing_at_start_shows_status_then_resumes_when_plugged():
    devices, statuses = FakeDevices(), Statuses()
    mic = ResilientMicrophone(["USB"], on_status=statuses, open_device=devices.open, retry_s=0.2)
    got: list[np.ndarray] = []
    plugged_at = None
    started = time.monotonic()
    for block in mic.blocks():
        got.append(block)
        if plugged_at is None and time.monotonic() - started > 1.0:
            devices.plug("USB", FakeDevice("USB mic", as_blocks(tone(1.0)), unplug=False))
            plugged_at = time.monotonic()
        if plugged_at is not None and np.abs(block).max() > 0:
            resumed = time.monotonic() - plugged_at
            break
    mic.close()
    assert statuses.texts == [MIC_DISCONNECTED, None]
    assert resumed < 0.6  # within the retry interval (0.2 s) plus a block
    silent = [b for b in got if not np.abs(b).any()]
    assert len(silent) * BLOCK / SAMPLE_RATE == pytest.approx(1.0, abs=0.35)  # silence at real-time pace
    assert mic.reconnects == 1 and mic.outages == 1


def test_unplugged_mid_stream_switches_to_a_fallback_device_at_once():
    devices, statuses = FakeDevices(), Statuses()
    devices.plug("USB", FakeDevice("USB mic", as_blocks(tone(0.6)), pace=4))
    devices.plug("", FakeDevice("default", as_blocks(tone(0.6, level=0.2)), pace=4, unplug=False))
    mic = ResilientMicrophone(["USB", ""], on_status=statuses, open_device=devices.open, retry_s=0.2)
    got = []
    for block in mic.blocks():
        got.append(float(np.abs(block).max()))
        if len(got) == 40:
            break
    mic.close()
    assert devices.opened == ["USB", ""]  # the lost device is tried again (gone), then the fallback
    assert statuses.texts == []  # never without a microphone
    assert max(got[:20]) == pytest.approx(0.1, abs=0.01) and max(got[-5:]) == pytest.approx(0.2, abs=0.01)


def test_outage_keeps_the_stream_clock_with_the_wall_clock():
    devices, statuses = FakeDevices(), Statuses()
    devices.plug("", FakeDevice("mic", as_blocks(tone(0.5))))
    mic = ResilientMicrophone([""], on_status=statuses, open_device=devices.open, retry_s=0.1)
    samples = 0
    started = None
    for block in mic.blocks():
        started = started or time.monotonic() - len(block) / SAMPLE_RATE
        samples += len(block)
        if statuses.texts == [MIC_DISCONNECTED] and time.monotonic() - started > 1.2:
            devices.plug("", FakeDevice("mic", as_blocks(tone(2.0)), unplug=False))
        if statuses.texts == [MIC_DISCONNECTED, None]:
            break
    elapsed = time.monotonic() - started
    mic.close()
    assert samples / SAMPLE_RATE == pytest.approx(elapsed, abs=0.15)


def test_close_from_another_thread_ends_an_outage_at_once():
    mic = ResilientMicrophone(["gone"], open_device=FakeDevices().open, retry_s=5.0)
    threading.Timer(0.3, mic.close).start()
    started = time.monotonic()
    blocks = sum(1 for _ in mic.blocks())
    assert time.monotonic() - started < 1.0
    assert blocks > 0


def test_a_broken_status_listener_does_not_stop_the_audio():
    def broken(text):
        raise RuntimeError("display gone")

    devices = FakeDevices()
    mic = ResilientMicrophone(["x"], on_status=broken, open_device=devices.open, retry_s=0.05)
    statuses = Statuses()
    mic.add_status_listener(statuses)
    count = 0
    for _ in mic.blocks():
        count += 1
        if count == 20:
            break
    mic.close()
    assert statuses.texts == [MIC_DISCONNECTED]


def test_level_watch_reports_digital_silence_and_clipping():
    watch = LevelWatch(silent_after_s=10, clip_after_s=5)
    zeros = np.zeros(BLOCK, dtype=np.float32)
    assert {watch.feed(zeros) for _ in range(int(9.5 * SAMPLE_RATE / BLOCK))} == {None}
    assert [watch.feed(zeros) for _ in range(40)][-1] == MIC_SILENT
    room = np.random.default_rng(0).normal(0, 0.002, BLOCK).astype(np.float32)  # a quiet room is not silent
    assert [watch.feed(room) for _ in range(40)][-1] is None
    clipped = np.clip(np.random.default_rng(1).normal(0, 2.0, BLOCK), -1, 1).astype(np.float32)
    results = [watch.feed(clipped) for _ in range(int(6 * SAMPLE_RATE / BLOCK))]
    assert results[int(3 * SAMPLE_RATE / BLOCK)] is None and results[-1] == MIC_CLIPPING
    assert [watch.feed(tone(0.03, 0.3)) for _ in range(80)][-1] is None  # clean speech level again


def test_an_hour_of_silence_or_clipped_noise_shows_a_status_and_never_ends_the_stream():
    """An hour of bad input (replayed as fast as possible) only changes the status line."""
    hour_blocks = 3600  # of one second each
    zeros = np.zeros(SAMPLE_RATE, dtype=np.float32)
    clipped = np.clip(np.random.default_rng(2).normal(0, 3.0, SAMPLE_RATE), -1, 1).astype(np.float32)
    for block, expected in ((zeros, MIC_SILENT), (clipped, MIC_CLIPPING)):
        devices, statuses = FakeDevices(), Statuses()
        devices.plug("", FakeDevice("mic", [block] * hour_blocks, pace=1e9, unplug=False))
        mic = ResilientMicrophone([""], on_status=statuses, open_device=devices.open)
        count = 0
        for _ in mic.blocks():
            count += 1
            if count == hour_blocks:
                break
        mic.close()
        assert statuses.texts == [expected]


def test_open_live_source_tries_the_fallback_devices(tmp_path):
    options = AudioOptions(device="USB", fallback_devices=["2", "USB"])
    source = open_live_source(options, None, None)
    assert isinstance(source, ResilientMicrophone) and source.devices == ["USB", "2"]
    source.close()
    wav = EVAL_DIR / "d01.wav"
    assert isinstance(open_live_source(options, str(wav), 1.0), FileSource)


# --- the pipeline: an utterance cut by the unplug still gets its final -----------------


class FakeRecognizer:
    """Says how long the audio was; fails the first ``fail`` calls (a transient fault)."""

    capabilities = Capabilities(forced_prefix=True, prompt=True, hotwords=True, no_speech_prob=True)

    def __init__(self, fail: int = 0, always_fail: bool = False) -> None:
        self.fail = fail
        self.always_fail = always_fail
        self.calls = 0
        self.lock = threading.Lock()

    def transcribe(self, audio, *, beam_size=1, previous_text="", prefix="", hotwords=""):
        with self.lock:
            self.calls += 1
            calls = self.calls
        if self.always_fail or calls <= self.fail:
            raise RuntimeError(f"simulated decoder fault #{calls}")
        return Hypothesis(
            text=f"{prefix}発話{len(audio) // 1600}です", avg_logprob=-0.2, no_speech_prob=0.01,
            compression_ratio=1.0, seconds=0.001,
        )  # fmt: skip

    def describe(self) -> dict[str, object]:
        return {"backend": "fake", "model": "fake"}


def test_utterance_cut_by_an_unplug_gets_its_final_and_captions_resume():
    d01, d03 = read_wav(EVAL_DIR / "d01.wav"), read_wav(EVAL_DIR / "d03.wav")
    cut = int(np.argmax(np.abs(d01) > 0.05)) + SAMPLE_RATE  # one second into the speech
    devices, statuses = FakeDevices(), Statuses()
    devices.plug("", FakeDevice("mic", as_blocks(d01[:cut]), pace=3))
    mic = ResilientMicrophone([""], on_status=statuses, open_device=devices.open, retry_s=0.1)
    collector = FinalsCollector()
    config = Config()
    pipeline = CaptionPipeline(config, FakeRecognizer(), mic, collector, partials=False)

    def replug() -> None:
        while statuses.texts != [MIC_DISCONNECTED]:
            time.sleep(0.02)
        time.sleep(1.5)  # unplugged for 1.5 s
        devices.plug("", FakeDevice("mic", as_blocks(np.concatenate([d03, np.zeros(SAMPLE_RATE, np.float32)])), pace=3))
        while len(collector.finals) < 2:
            time.sleep(0.05)
        pipeline.stop()

    helper = threading.Thread(target=replug)
    helper.start()
    pipeline.run()
    helper.join()
    finals = collector.finals
    assert statuses.texts == [MIC_DISCONNECTED, None]
    assert len(finals) == 2
    assert finals[0].audio_end <= cut / SAMPLE_RATE + 0.2  # the cut utterance, finished by the silence
    assert finals[1].audio_start > finals[0].audio_end  # the sentence after the replug, on the same stream


def test_asr_worker_restarts_after_faults_and_no_final_is_lost(monkeypatch):
    import captioner.engine.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "WORKER_BACKOFF_S", (0.01, 0.05))
    recognizer = FakeRecognizer(fail=3)
    collector = FinalsCollector()
    source = FileSource(EVAL_DIR / "session.wav", pace=None)
    pipeline = CaptionPipeline(Config(), recognizer, source, collector, partials=False, backpressure=True)
    stats = pipeline.run()
    assert stats.worker_restarts == 3
    reference = CaptionPipeline(Config(), FakeRecognizer(), FileSource(EVAL_DIR / "session.wav", pace=None),
                                (second := FinalsCollector()), partials=False, backpressure=True)  # fmt: skip
    reference.run()
    assert [e.text for e in collector.finals] == [e.text for e in second.finals]
    assert len(second.finals) >= 10


def test_asr_worker_gives_up_after_repeated_faults_with_backoff(monkeypatch, caplog):
    import captioner.engine.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "WORKER_BACKOFF_S", (0.05, 0.2))
    source = FileSource(EVAL_DIR / "d01.wav", pace=None)
    pipeline = CaptionPipeline(Config(), FakeRecognizer(always_fail=True), source, FinalsCollector(), partials=False, backpressure=True)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="simulated decoder fault"):
        pipeline.run()
    # backoff 0.05 + 0.1 + 0.2 + 0.2 + 0.2 before the sixth failure ends it
    assert time.monotonic() - started >= 0.7
    assert pipeline.stats.worker_restarts == pipeline_module.WORKER_MAX_FAILURES - 1
    assert "restarting in" in caplog.text


# --- a real device that disappears while audio plays ------------------------------------


@pytest.mark.microphone
def test_real_device_removed_and_readded_while_audio_plays(pulse):
    from tests.pulse_support import SINK

    statuses = Statuses()
    mic = ResilientMicrophone(["pulse"], on_status=statuses)
    player = None
    timeline: dict[str, float] = {}
    loud_after_replug = 0

    def loud(block) -> bool:
        return float(np.abs(block).max()) > 0.02

    try:
        for block in mic.blocks():
            now = time.monotonic()
            if player is None:  # audio flows: play a long sentence, unplug in the middle of it
                player = subprocess.Popen(["paplay", f"--device={SINK}", str(EVAL_DIR / "d01.wav")])
                timeline["playing"] = now
            elif "unplugged" not in timeline and now - timeline["playing"] > 1.5:
                pulse.unplug_for_real()
                timeline["unplugged"] = now
            elif "unplugged" in timeline and "replugged" not in timeline:
                if MIC_DISCONNECTED in statuses.texts and now - timeline["unplugged"] > 2.0:
                    player.wait(timeout=15)
                    pulse.replug()
                    timeline["replugged"] = time.monotonic()
                    player = subprocess.Popen(["paplay", f"--device={SINK}", str(EVAL_DIR / "d03.wav")])
            elif "replugged" in timeline:
                if None in statuses.texts[1:] and "resumed" not in timeline:
                    timeline["resumed"] = now
                loud_after_replug += loud(block)
                if loud_after_replug > 30 or now - timeline["replugged"] > 15:
                    break
            if now - timeline.get("playing", now) > 30:
                break
    finally:
        mic.close()
        pulse.replug()
        if player is not None:
            player.wait(timeout=15)
    assert statuses.texts[:2] == [MIC_DISCONNECTED, None], statuses.seen
    assert timeline["resumed"] - timeline["replugged"] < 3.0, timeline  # captions resume within 3 s
    assert loud_after_replug > 30  # the sentence played after the replug is recorded
    assert mic.outages == 1 and mic.reconnects == 1


@pytest.mark.microphone
@pytest.mark.model
def test_captioner_run_survives_an_unplug_mid_sentence(pulse, tmp_path):
    """`captioner run`: the microphone disappears mid-sentence and comes back; no restart."""
    import json
    import signal
    import sys

    from captioner.core.metrics import cer
    from tests.pulse_support import SINK

    reference = "徳山駅の北口から、市役所行きのバスが出ています。"
    config = tmp_path / "config.yaml"
    config.write_text("web:\n  enabled: false\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "captioner", "run", "--jsonl", "--no-display", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(5)  # model load and PortAudio's slow first start
        player = subprocess.Popen(["paplay", f"--device={SINK}", str(EVAL_DIR / "d03.wav")])
        time.sleep(1.8)  # in the middle of the sentence
        pulse.unplug_for_real()
        player.wait(timeout=15)
        time.sleep(2.0)
        pulse.replug()
        time.sleep(2.5)  # the device is picked up again within 3 s
        subprocess.run(["paplay", f"--device={SINK}", str(EVAL_DIR / "d03.wav")], check=True, timeout=30)
        time.sleep(2.0)
    finally:
        pulse.replug()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert MIC_DISCONNECTED.split("。")[0] in stderr and "Microphone OK again" in stderr, stderr
    finals = [e for e in map(json.loads, stdout.splitlines()) if e["kind"] == "final" and e["text"]]
    assert len(finals) >= 2, (finals, stderr)
    cut, full = finals[0], finals[-1]
    assert cut["audio_end"] < full["audio_start"]  # the cut sentence got its final before the replug
    assert cer([reference], [full["text"]]) < 0.35, full["text"]
