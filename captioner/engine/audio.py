"""Audio input: a microphone (sounddevice/PortAudio) or a file (PyAV).

Every source yields 16 kHz mono float32 blocks of about ``block_ms`` each, so the rest of the
pipeline never sees device or file formats. Microphone and file replay share that one path.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import av
import numpy as np

from captioner.core.audio import SAMPLE_RATE
from captioner.core.errors import AudioDeviceError, AudioFileError

log = logging.getLogger(__name__)


MIN_BLOCK_MS = 10
MAX_BLOCK_MS = 1000

_POLL_S = 0.1  # how often a waiting microphone reader checks for close() and device loss
_INACTIVE_GRACE_S = 1.0  # no data this long and the stream is no longer active: device lost
_QUEUE_SECONDS = 10.0  # audio the microphone queue holds before blocks are dropped


@dataclass
class AudioOptions:
    """Audio input settings (``audio:`` in the config)."""

    device: str = ""  # "" = system default input; else an index ("3"; YAML's 3 works too) or part of a name
    block_ms: int = 30  # size of the blocks the source yields
    fallback_devices: list[str] = field(default_factory=list)  # tried in order when `device` is missing or unplugged

    def validate(self) -> None:
        """Raise ValueError naming the bad setting."""
        if isinstance(self.device, bool) or not isinstance(self.device, (str, int)):
            raise ValueError(f"device must be a device index or (part of) a name, got {self.device!r}")
        _check_block_ms(self.block_ms)


class AudioSource(Protocol):
    """A stream of 16 kHz mono float32 blocks."""

    name: str

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield 1-D float32 blocks of about ``block_ms``; end when the source ends."""
        ...

    def close(self) -> None:
        """Make ``blocks()`` end soon; idempotent and safe to call from another thread."""
        ...


@dataclass(frozen=True)
class InputDevice:
    """One audio input device as PortAudio lists it."""

    index: int
    name: str
    channels: int
    default_samplerate: float
    is_default: bool


def _check_block_ms(block_ms: Any) -> None:
    if isinstance(block_ms, bool) or not isinstance(block_ms, int):
        raise ValueError(f"block_ms must be an integer number of milliseconds, got {block_ms!r}")
    if not MIN_BLOCK_MS <= block_ms <= MAX_BLOCK_MS:
        raise ValueError(f"block_ms must be between {MIN_BLOCK_MS} and {MAX_BLOCK_MS}, got {block_ms}")


def _block_samples(block_ms: int) -> int:
    return SAMPLE_RATE * block_ms // 1000


class _Rechunker:
    """Cuts arrays of any length into blocks of exactly ``size`` samples."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._parts: list[np.ndarray] = []
        self._count = 0

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        if samples.size:
            self._parts.append(samples)
            self._count += samples.size
        if self._count < self.size:
            return []
        data = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        full = len(data) // self.size * self.size
        blocks = [np.array(data[i : i + self.size]) for i in range(0, full, self.size)]
        rest = data[full:]
        self._parts = [rest] if rest.size else []
        self._count = rest.size
        return blocks

    def flush(self) -> np.ndarray | None:
        """The samples left over (fewer than one block), or None."""
        if not self._count:
            return None
        rest = np.concatenate(self._parts)
        self._parts, self._count = [], 0
        return rest


def _new_resampler() -> av.AudioResampler:
    return av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)


def _frame_samples(frames: list[av.AudioFrame]) -> np.ndarray:
    """Packed mono float frames from the resampler as one 1-D float32 array."""
    arrays = [frame.to_ndarray().reshape(-1) for frame in frames]
    if not arrays:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(arrays).astype(np.float32, copy=False)


# --- files -----------------------------------------------------------------------------------


class FileSource:
    """Any audio or video file PyAV can read, decoded while it is read.

    ``pace=None`` yields as fast as decoding allows; ``pace=1.0`` in real time (block *k*, counted from 0, no
    earlier than start + (k + 1) × block duration, scheduled against the start so it does not
    drift); ``pace=4.0`` four times faster than real time. The last block may be shorter.
    Stereo is mixed down as ffmpeg (and faster-whisper's ``decode_audio``) does.
    """

    def __init__(self, path: str | Path, pace: float | None = None, block_ms: int = 30) -> None:
        _check_block_ms(block_ms)
        if pace is not None and not pace > 0:
            raise ValueError(f"pace must be a positive number or None, got {pace!r}")
        self.path = Path(path)
        self.name = str(self.path)
        self.pace = pace
        self._block_size = _block_samples(block_ms)
        self._stop = threading.Event()
        if not self.path.exists():
            raise AudioFileError(f"Audio file not found: {self.path}")
        if not self.path.is_file():
            raise AudioFileError(f"Not an audio file (not a regular file): {self.path}")
        self._open().close()  # fail at start-up, not in the middle of the pipeline

    def _open(self) -> Any:
        try:
            container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or str(e)
            raise AudioFileError(f"Cannot read audio file {self.path}: {reason}") from e
        if not container.streams.audio:
            container.close()
            raise AudioFileError(f"No audio stream in {self.path}")
        return container

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield 16 kHz mono float32 blocks; raise AudioFileError if the file holds no audio."""
        container = self._open()
        decoded = self._decode(container)
        block_seconds = self._block_size / SAMPLE_RATE
        start = time.monotonic()
        produced = 0  # blocks yielded so far
        total = 0  # samples yielded so far

        def on_time() -> bool:  # wait for the next block's turn; False once closed
            # like a microphone, a block is available once all of its audio has been "recorded"
            due = start + (produced + 1) * block_seconds / self.pace if self.pace else None
            return self._wait_until(due)

        try:
            rechunker = _Rechunker(self._block_size)
            for samples in decoded:
                for block in rechunker.push(samples):
                    if not on_time():
                        return
                    produced += 1
                    total += block.size
                    yield block
                if self._stop.is_set():
                    return
            tail = rechunker.flush()
            if tail is not None:
                if not on_time():
                    return
                total += tail.size
                yield tail
            if total == 0:
                raise AudioFileError(f"Audio file holds no audio samples: {self.path}")
            log.debug("%s: %.2f s of audio", self.path, total / SAMPLE_RATE)
        finally:
            decoded.close()
            container.close()

    def _decode(self, container: Any) -> Iterator[np.ndarray]:
        stream = container.streams.audio[0]
        resampler = _new_resampler()
        try:
            for frame in container.decode(stream):
                yield _frame_samples(resampler.resample(frame))
                if self._stop.is_set():
                    return
            yield _frame_samples(resampler.resample(None))
        except av.FFmpegError as e:
            reason = getattr(e, "strerror", None) or str(e)
            raise AudioFileError(f"Cannot decode audio file {self.path}: {reason}") from e

    def _wait_until(self, deadline: float | None) -> bool:
        """Sleep until ``deadline`` (monotonic) unless closed first; False once closed."""
        if deadline is not None:
            delay = deadline - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return False
        return not self._stop.is_set()

    def close(self) -> None:
        """Make ``blocks()`` end at the next block, for good (safe from another thread)."""
        self._stop.set()


# --- devices ---------------------------------------------------------------------------------


def _load_sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError as e:  # sounddevice is installed but the PortAudio library is not
        raise AudioDeviceError(
            "The PortAudio library is missing, so no microphone can be opened. Install the "
            "system package (Debian/Ubuntu: sudo apt-get install libportaudio2)."
        ) from e
    except ImportError as e:
        raise AudioDeviceError("The Python package sounddevice is missing (pip install sounddevice).") from e
    return sounddevice


def refresh_devices(sd_module: Any = None) -> None:
    """Re-enumerate audio devices (PortAudio lists them only when it initializes).

    Call it only while no stream is open: re-initializing PortAudio closes open streams.
    """
    sd = sd_module or _load_sounddevice()
    terminate = getattr(sd, "_terminate", None)
    initialize = getattr(sd, "_initialize", None)
    if terminate is None or initialize is None:  # an injected stand-in with a fixed list
        return
    depth = max(int(getattr(sd, "_initialized", 1)), 1)
    try:
        for _ in range(depth):
            terminate()
        for _ in range(depth):
            initialize()
    except sd.PortAudioError as e:
        raise AudioDeviceError(f"Cannot re-initialize PortAudio to list audio devices: {e}") from e


def _default_input_index(sd: Any) -> int:
    try:
        return int(sd.query_devices(kind="input")["index"])
    except (sd.PortAudioError, ValueError, KeyError, TypeError):
        return -1  # no default input device


def list_input_devices(sd_module: Any = None) -> list[InputDevice]:
    """The devices that can record, in PortAudio's order."""
    sd = sd_module or _load_sounddevice()
    try:
        infos = list(sd.query_devices())
    except sd.PortAudioError as e:
        raise AudioDeviceError(f"Cannot list audio devices: {e}") from e
    default_index = _default_input_index(sd)
    devices = []
    for position, info in enumerate(infos):
        if int(info.get("max_input_channels", 0)) <= 0:
            continue
        index = int(info.get("index", position))
        devices.append(
            InputDevice(
                index=index,
                name=str(info["name"]),
                channels=int(info["max_input_channels"]),
                default_samplerate=float(info["default_samplerate"]),
                is_default=index == default_index,
            )
        )
    return devices


def format_devices(devices: Sequence[InputDevice]) -> str:
    """A readable list, one ``index: name`` line per device, ``*`` marking the default."""
    if not devices:
        return "  (no audio input devices found)"
    lines = [
        f"{'*' if d.is_default else ' '} {d.index:>3}: {d.name}  ({d.channels} ch, {d.default_samplerate:g} Hz)"
        for d in devices
    ]
    if any(d.is_default for d in devices):
        lines.append("  (* = system default)")
    return "\n".join(lines)


def _with_device_list(message: str, devices: Sequence[InputDevice]) -> str:
    if not devices:
        return f"{message}\nNo audio input devices were found: is a microphone connected and enabled?"
    return f"{message}\nAvailable input devices:\n{format_devices(devices)}"


def _resolve_device(spec: str, devices: Sequence[InputDevice]) -> InputDevice:
    """The device ``spec`` names: "" = default, digits = index, else (part of) a name."""
    spec = str(spec).strip()
    if not devices:
        wanted = f"Audio input device {spec!r} not found." if spec else "No audio input device to record from."
        raise AudioDeviceError(_with_device_list(wanted, devices))
    if not spec:
        for device in devices:
            if device.is_default:
                return device
        raise AudioDeviceError(_with_device_list("There is no default audio input device; set audio.device.", devices))
    if spec.isdigit():
        for device in devices:
            if device.index == int(spec):
                return device
        raise AudioDeviceError(_with_device_list(f"No audio input device with index {spec}.", devices))
    exact = [d for d in devices if d.name.casefold() == spec.casefold()]
    if exact:
        return exact[0]
    matches = [d for d in devices if spec.casefold() in d.name.casefold()]
    if not matches:
        raise AudioDeviceError(_with_device_list(f"Audio input device {spec!r} not found.", devices))
    if len(matches) > 1:
        log.warning(
            "Audio device %r matches %d devices; using %d: %s (set the index to choose another)",
            spec, len(matches), matches[0].index, matches[0].name,
        )
    return matches[0]


def _choose_format(sd: Any, device: InputDevice, devices: Sequence[InputDevice]) -> tuple[int, int]:
    """(rate, channels) to open: 16 kHz mono if accepted, else the device's own format."""
    native = int(round(device.default_samplerate))
    candidates = [(SAMPLE_RATE, 1), (native, 1), (native, min(2, device.channels)), (native, device.channels)]
    last_error: Exception | None = None
    for rate, channels in dict.fromkeys(candidates):
        try:
            sd.check_input_settings(device=device.index, samplerate=rate, channels=channels, dtype="float32")
            return rate, channels
        except (sd.PortAudioError, ValueError) as e:
            log.debug("device %d refuses %d Hz × %d ch: %s", device.index, rate, channels, e)
            last_error = e
    raise AudioDeviceError(
        _with_device_list(f"Audio input device {device.index}: {device.name} cannot be used: {last_error}", devices)
    )


class _ToMono16k:
    """Converts device blocks (frames × channels) to 16 kHz mono, streaming."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        self.channels = channels
        self._resampler = _new_resampler() if rate != SAMPLE_RATE else None

    def convert(self, block: np.ndarray) -> np.ndarray:
        mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        if self._resampler is None:
            return mono
        frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self.rate
        return _frame_samples(self._resampler.resample(frame))


class MicrophoneSource:
    """Records an input device with a sounddevice callback stream.

    The callback only copies blocks into a bounded queue; ``blocks()`` converts them to
    16 kHz mono (when the device cannot record that directly) and cuts them to ``block_ms``.
    A device that stops delivering (unplugged, server gone) makes ``blocks()`` raise
    AudioDeviceError: at once when the stream reports that it finished, or after
    ``stall_timeout`` seconds without audio. The stream starts at the first ``blocks()``.
    """

    def __init__(
        self, device: str = "", block_ms: int = 30, sd_module: Any = None, *, stall_timeout: float = 5.0
    ) -> None:
        _check_block_ms(block_ms)
        self._sd = sd_module or _load_sounddevice()
        self._block_size = _block_samples(block_ms)
        self.stall_timeout = stall_timeout
        devices = list_input_devices(self._sd)
        self.device = _resolve_device(device, devices)
        self.name = self.device.name
        self.rate, self.channels = _choose_format(self._sd, self.device, devices)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(
            maxsize=max(1, int(_QUEUE_SECONDS * 1000 / block_ms))
        )
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._dropped = 0  # blocks the callback could not queue (reader too slow)
        self._flagged = 0  # callbacks with PortAudio status flags (overflow, ...)
        try:
            self._stream = self._sd.InputStream(
                device=self.device.index,
                samplerate=self.rate,
                channels=self.channels,
                dtype="float32",
                blocksize=max(1, round(self.rate * block_ms / 1000)),
                callback=self._callback,
                finished_callback=self._on_finished,
            )
        except (self._sd.PortAudioError, ValueError) as e:
            raise AudioDeviceError(
                _with_device_list(f"Cannot open audio input device {self.device.index}: {self.name} ({e}).", devices)
            ) from e
        log.info(
            "Microphone %d: %s at %d Hz, %d ch%s",
            self.device.index, self.name, self.rate, self.channels,
            "" if (self.rate, self.channels) == (SAMPLE_RATE, 1) else " (converted to 16 kHz mono)",
        )

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status:
            self._flagged += 1
        try:
            self._queue.put_nowait(indata.copy())
        except queue.Full:
            self._dropped += 1

    def _on_finished(self) -> None:
        self._finished.set()
        self._wake()

    def _wake(self) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass  # the reader is busy with data and checks the flags after it

    def _start(self) -> bool:
        with self._lock:
            if self._closed:
                return False
            if not self._started:
                try:
                    self._stream.start()
                except self._sd.PortAudioError as e:
                    raise AudioDeviceError(
                        _with_device_list(
                            f"Cannot start audio input device {self.device.index}: {self.name} ({e}); "
                            "is it busy or disconnected?",
                            list_input_devices(self._sd),
                        )
                    ) from e
                self._started = True
            return True

    def _stream_active(self) -> bool:
        try:
            return bool(self._stream.active)
        except self._sd.PortAudioError:
            return False

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield 16 kHz mono float32 blocks until ``close()``; the source closes when this ends."""
        try:
            if not self._start():
                return
            converter = _ToMono16k(self.rate, self.channels)
            rechunker = _Rechunker(self._block_size)
            last_data = time.monotonic()
            reported = (0, 0)
            while not self._stop.is_set():
                try:
                    item = self._queue.get(timeout=_POLL_S)
                except queue.Empty:
                    item = None
                if self._stop.is_set():
                    return
                if item is None:
                    self._check_alive(time.monotonic() - last_data)
                    continue
                last_data = time.monotonic()
                for block in rechunker.push(converter.convert(item)):
                    yield block
                if (self._dropped, self._flagged) != reported:
                    reported = (self._dropped, self._flagged)
                    log.warning(
                        "Microphone %s: %d blocks dropped (reader too slow), %d callbacks with overflow flags",
                        self.name, *reported,
                    )
        finally:
            self.close()

    def _check_alive(self, idle: float) -> None:
        """Raise AudioDeviceError if the device has stopped delivering audio."""
        lost = self._finished.is_set() or (idle > _INACTIVE_GRACE_S and not self._stream_active())
        if lost and not self._stop.is_set():
            raise AudioDeviceError(
                f"Audio input device {self.device.index}: {self.name} stopped delivering audio "
                "(disconnected, or its sound server stopped)."
            )
        if idle > self.stall_timeout and not self._stop.is_set():
            raise AudioDeviceError(
                f"No audio from input device {self.device.index}: {self.name} for {idle:.0f} s "
                "(disconnected or blocked by another program?)."
            )

    def close(self) -> None:
        """Stop and close the stream; ``blocks()`` ends within about 0.1 s. Idempotent."""
        self._stop.set()
        self._wake()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._started:
                    self._stream.stop()
            except self._sd.PortAudioError as e:
                log.debug("stopping the stream of %s: %s", self.name, e)
            finally:
                try:
                    self._stream.close()
                except self._sd.PortAudioError as e:
                    log.debug("closing the stream of %s: %s", self.name, e)

    def __enter__(self) -> MicrophoneSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
