"""Keeping captions alive all day: a microphone source that survives being unplugged.

:class:`ResilientMicrophone` is an :class:`~captioner.engine.audio.AudioSource` that opens the
configured microphone (or the first configured fallback that works). When the device
disappears, at start-up or mid-sentence, it reports a status, yields silence at real-time
pace (so the VAD closes the open utterance, which still gets its final, and the stream clock
keeps up with the wall clock) and tries to open a device again every ``retry_s`` seconds.
When one opens, the status clears and real audio flows again, without a restart.

It also watches the level of what the device delivers: exact digital silence (a device
moved to a dummy source, a muted input) or heavy clipping for a while is reported too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from captioner.core.errors import AudioDeviceError
from captioner.engine.audio import (
    SAMPLE_RATE,
    AudioOptions,
    FileSource,
    MicrophoneSource,
    _check_block_ms,
    refresh_devices,
)

log = logging.getLogger(__name__)

MIC_DISCONNECTED = "マイクが接続されていません。再接続を待っています  Microphone not connected"
MIC_SILENT = "マイクから音が届いていません (ミュート?)  No sound from the microphone"
MIC_CLIPPING = "マイクの音が大きすぎます (音割れ)  Microphone input is clipping"

StatusCallback = Callable[[str | None], None]
Opener = Callable[[str, int], Any]

SILENT_PEAK = 1e-4  # below about -80 dBFS: nothing reaches the device (a live room is louder)
CLIP_LEVEL = 0.98
CLIP_FRACTION = 0.01  # of samples at full scale in a window: the input is clipping


class LevelWatch:
    """Notices a device that delivers only digital silence, or clipped audio, for a while.

    ``feed`` takes every block; it returns the status to show (MIC_SILENT, MIC_CLIPPING) or
    None. Decisions are made per window of ``window_s`` seconds of audio: silent after
    ``silent_after_s`` of silent windows, clipping after ``clip_after_s`` of clipped windows.
    """

    def __init__(self, silent_after_s: float = 10.0, clip_after_s: float = 5.0, window_s: float = 1.0) -> None:
        self.silent_after_s = silent_after_s
        self.clip_after_s = clip_after_s
        self.window = int(window_s * SAMPLE_RATE)
        self._samples = 0
        self._peak = 0.0
        self._clipped = 0
        self._silent_s = 0.0
        self._clipping_s = 0.0
        self.status: str | None = None

    def feed(self, block: np.ndarray) -> str | None:
        if block.size:
            self._peak = max(self._peak, float(np.max(np.abs(block))))
            self._clipped += int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL))
            self._samples += block.size
        if self._samples >= self.window:
            seconds = self._samples / SAMPLE_RATE
            self._silent_s = self._silent_s + seconds if self._peak < SILENT_PEAK else 0.0
            clipped = self._clipped / self._samples > CLIP_FRACTION
            self._clipping_s = self._clipping_s + seconds if clipped else 0.0
            self._samples, self._peak, self._clipped = 0, 0.0, 0
            if self._silent_s >= self.silent_after_s:
                self.status = MIC_SILENT
            elif self._clipping_s >= self.clip_after_s:
                self.status = MIC_CLIPPING
            else:
                self.status = None
        return self.status

    def reset(self) -> None:
        self.__init__(self.silent_after_s, self.clip_after_s, self.window / SAMPLE_RATE)


class ResilientMicrophone:
    """A microphone that waits for its device to come back instead of ending the stream.

    ``devices`` are tried in order ("" = the system default). ``on_status`` (and listeners
    added with :meth:`add_status_listener`) get a status line text, or None once it is fine
    again; they are called from the audio thread and must not block. ``open_device`` opens
    one device (default: :class:`MicrophoneSource`); tests may inject another.
    """

    def __init__(
        self,
        devices: Sequence[str] = ("",),
        block_ms: int = 30,
        *,
        on_status: StatusCallback | None = None,
        retry_s: float = 0.5,
        sd_module: Any = None,
        open_device: Opener | None = None,
        stall_timeout: float = 5.0,
        level_watch: LevelWatch | None = None,
    ) -> None:
        _check_block_ms(block_ms)
        self.devices = [str(d) for d in devices] or [""]
        self.block_ms = block_ms
        self.retry_s = retry_s
        self.name = " / ".join(d or "default" for d in self.devices)
        self._sd = sd_module
        self._refresh = sd_module is not None or open_device is None  # an injected opener lists its own devices
        self._open_device = open_device or (
            lambda spec, ms: MicrophoneSource(spec, ms, sd_module, stall_timeout=stall_timeout)
        )
        self._listeners: list[StatusCallback] = [on_status] if on_status is not None else []
        self._status: str | None = None
        self._detail = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._current: Any = None
        self.level = level_watch or LevelWatch()
        self.outages = 0  # times the device was lost (or missing) since blocks() started
        self.reconnects = 0  # times a device opened again after an outage
        self.device_name: str | None = None  # the device now recording

    # -- status ----------------------------------------------------------------------

    @property
    def status(self) -> str | None:
        return self._status

    def add_status_listener(self, listener: StatusCallback) -> None:
        """Call ``listener(text | None)`` on every change (at once with the current status)."""
        with self._lock:
            self._listeners.append(listener)
            current = self._status
        if current is not None:
            self._call(listener, current)

    def _set_status(self, text: str | None) -> None:
        with self._lock:
            if text == self._status:
                return
            self._status = text
            listeners = list(self._listeners)
        if text is None:
            log.info("Microphone OK again: %s", self.device_name)
        else:
            log.warning("Microphone status: %s%s", text, f" ({self._detail})" if self._detail else "")
        for listener in listeners:
            self._call(listener, text)

    @staticmethod
    def _call(listener: StatusCallback, text: str | None) -> None:
        try:
            listener(text)
        except Exception:  # a broken status line must not stop the audio
            log.exception("microphone status listener %r failed", listener)

    # -- audio -----------------------------------------------------------------------

    def _try_open(self) -> Any:
        """The first configured device that opens, or None (the reason is kept for the log)."""
        reasons = []
        for spec in self.devices:
            if self._stop.is_set():
                return None
            try:
                source = self._open_device(spec, self.block_ms)
            except AudioDeviceError as e:
                reasons.append(str(e).splitlines()[0])
                continue
            with self._lock:
                if self._stop.is_set():
                    source.close()
                    return None
                self._current = source
            self.device_name = getattr(source, "name", spec)
            return source
        self._detail = "; ".join(reasons)
        return None

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield 16 kHz mono blocks until :meth:`close`; silence while no device is usable."""
        size = SAMPLE_RATE * self.block_ms // 1000
        silence = np.zeros(size, dtype=np.float32)
        start: float | None = None  # wall clock of stream time 0
        produced = 0  # samples yielded
        lost = False
        retry_now = False  # a device that worked was lost: try the others at once, before waiting
        while not self._stop.is_set():
            source = self._try_open()
            if source is not None:
                try:
                    fresh = True
                    for block in source.blocks():
                        now = time.monotonic()
                        if fresh:
                            fresh = False
                            if start is None:
                                start = now - len(block) / SAMPLE_RATE
                            # fill the time the device was away, so the stream clock keeps up
                            gap = int((now - start) * SAMPLE_RATE) - produced - len(block)
                            for _ in range(max(0, gap) // size):
                                produced += size
                                yield silence
                            if lost:
                                self.reconnects += 1
                                lost = False
                            self._detail = ""
                            self.level.reset()
                            retry_now = True
                        self._set_status(self.level.feed(block))
                        produced += len(block)
                        yield block
                    if self._stop.is_set():
                        return
                    self._detail = f"{self.device_name}: the stream ended"
                except AudioDeviceError as e:
                    self._detail = str(e).splitlines()[0]
                finally:
                    source.close()
                    with self._lock:
                        self._current = None
            if self._stop.is_set():
                return
            if not lost:
                lost = True
                self.outages += 1
            if retry_now:
                retry_now = False
                log.warning("Microphone lost: %s; trying the configured devices again", self._detail)
                self._refresh_devices()
                continue
            self._set_status(MIC_DISCONNECTED)
            if start is None:
                start = time.monotonic()
            # real-time silence until the next attempt: closes an open utterance (its final
            # is still decoded) and keeps the stream clock in step with the wall clock
            deadline = time.monotonic() + self.retry_s
            while not self._stop.is_set():
                due = int((time.monotonic() - start) * SAMPLE_RATE)
                while produced + size <= due:
                    produced += size
                    yield silence
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._stop.wait(min(remaining, self.block_ms / 1000))
            if self._stop.is_set():
                return
            self._refresh_devices()

    def _refresh_devices(self) -> None:
        if self._refresh:
            try:
                refresh_devices(self._sd)  # PortAudio lists a re-plugged device only after this
            except AudioDeviceError as e:
                self._detail = str(e).splitlines()[0]

    def close(self) -> None:
        """Make ``blocks()`` end soon; idempotent and safe from another thread."""
        self._stop.set()
        with self._lock:
            current = self._current
        if current is not None:
            current.close()


def open_live_source(
    options: AudioOptions, input_path: str | None, pace: float | None, on_status: StatusCallback | None = None
):
    """A FileSource for ``input_path``, else a :class:`ResilientMicrophone` on the configured devices."""
    options.validate()
    if input_path:
        return FileSource(input_path, pace=pace, block_ms=options.block_ms)
    devices = [str(options.device), *(str(d) for d in options.fallback_devices)]
    return ResilientMicrophone(list(dict.fromkeys(devices)), options.block_ms, on_status=on_status)
