"""Voice activity segmentation: a stream of samples in, utterance boundaries out.

webrtcvad classifies 10/20/30 ms frames; an energy floor vetoes quiet frames it would call
speech. An utterance opens after a run of voiced frames (and keeps a pre-roll so the first
syllable is not cut), closes after a hangover of silence, and is cut at its quietest frame
once it reaches the maximum length.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import webrtcvad

from captioner.core.audio import SAMPLE_RATE


NOISE_WINDOW_S = 10  # seconds of frames the noise level is estimated from
NOISE_PERCENTILE = 10
NOISE_MIN_FRAMES = 30  # frames before the estimate is used (the first second: the energy floor alone)


@dataclass
class VadOptions:
    """Segmentation settings (``vad:`` in the config)."""

    frame_ms: int = 30
    aggressiveness: int = 2
    energy_floor_dbfs: float = -50.0
    noise_margin_db: float = 6.0  # a voiced frame is this much louder than the room's noise (0 = off)
    speech_start_ms: int = 90
    pre_roll_ms: int = 300
    hangover_ms: int = 800
    max_utterance_s: float = 12.0
    min_speech_ms: int = 200

    def validate(self) -> None:
        if self.frame_ms not in (10, 20, 30):
            raise ValueError("frame_ms must be 10, 20 or 30")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError("aggressiveness must be 0, 1, 2 or 3")
        if self.max_utterance_s < 1.0 or self.max_utterance_s > 29.0:
            raise ValueError("max_utterance_s must be between 1 and 29 seconds")
        for name in ("speech_start_ms", "pre_roll_ms", "hangover_ms", "min_speech_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass
class Utterance:
    """An utterance being recorded or just closed. Sample indices are on the stream's clock."""

    id: int
    start: int
    audio: list[np.ndarray] = field(default_factory=list)
    length: int = 0
    speech_end: int = 0
    voiced_samples: int = 0
    frame_energies: list[float] = field(default_factory=list)
    closed: bool = False

    @property
    def end(self) -> int:
        return self.start + self.length

    def samples(self, until: int | None = None) -> np.ndarray:
        """The audio from the start to the absolute sample index ``until`` (default: all)."""
        audio = np.concatenate(self.audio) if self.audio else np.zeros(0, np.float32)
        if len(self.audio) > 1:
            self.audio = [audio]
        return audio if until is None else audio[: max(0, until - self.start)]

    def has_speech(self, samples: int, pre_roll: int) -> bool:
        """``samples`` of speech heard: voiced frames, or that long since the onset (after the
        ``pre_roll``) with half of it voiced. In noise the noise floor leaves the quieter frames
        of speech out of the voiced ones, and a first partial waiting for them came late."""
        since_onset = self.length - pre_roll
        return self.voiced_samples >= samples or since_onset >= samples and self.voiced_samples >= samples // 2

    def append(self, frame: np.ndarray, voiced: bool, energy: float) -> None:
        self.audio.append(frame)
        self.length += len(frame)
        self.frame_energies.append(energy)
        if voiced:
            self.voiced_samples += len(frame)
            self.speech_end = self.end


@dataclass(frozen=True)
class VadUpdate:
    """What one call to :meth:`VadSegmenter.feed` changed."""

    opened: list[Utterance]
    closed: list[Utterance]


class VadSegmenter:
    """Feeds arbitrary-sized blocks, frames them, and tracks the open utterance."""

    def __init__(self, options: VadOptions, ids: Iterator[int] | None = None) -> None:
        options.validate()
        self.options = options
        self.vad = webrtcvad.Vad(options.aggressiveness)
        self.frame_len = SAMPLE_RATE * options.frame_ms // 1000
        self.floor = 10 ** (options.energy_floor_dbfs / 20)
        self.pending = np.zeros(0, np.float32)
        self.position = 0  # samples framed so far
        self.history: list[tuple[np.ndarray, bool, float]] = []  # recent frames before onset
        self.run = 0  # consecutive voiced frames
        self.silence = 0  # samples of silence since the last voiced frame
        self.base_hangover = SAMPLE_RATE * options.hangover_ms // 1000
        self.hangover = self.base_hangover  # silence that closes the open utterance now (see hold)
        self.current: Utterance | None = None
        self.recent_energies: deque[float] = deque(maxlen=NOISE_WINDOW_S * 1000 // options.frame_ms)
        self.margin = 10 ** (options.noise_margin_db / 20)
        self.ids = ids if ids is not None else itertools.count(1)  # a session shares one counter

    @property
    def frames_to_start(self) -> int:
        return max(1, -(-self.options.speech_start_ms // self.options.frame_ms))

    def feed(self, block: np.ndarray) -> VadUpdate:
        """Consume a block of 16 kHz float32 samples."""
        opened: list[Utterance] = []
        closed: list[Utterance] = []
        self.pending = np.concatenate([self.pending, block.astype(np.float32, copy=False)])
        usable = len(self.pending) - len(self.pending) % self.frame_len
        for offset in range(0, usable, self.frame_len):
            frame = self.pending[offset : offset + self.frame_len]
            self._frame(frame, opened, closed)
        self.pending = self.pending[usable:].copy()
        return VadUpdate(opened, closed)

    def flush(self) -> VadUpdate:
        """End of stream: close the open utterance."""
        closed = []
        if self.current is not None:
            closed.append(self._close())
        return VadUpdate([], closed)

    def close_open(self) -> Utterance | None:
        """Close the open utterance now, during a pause shorter than the hangover (the
        pipeline knows the sentence has ended); the next speech opens a new one."""
        if self.current is None:
            return None
        self.run = 0
        return self._close()

    def hold(self, hangover_ms: int) -> None:
        """Keep the open utterance open through this pause until ``hangover_ms`` of silence (the
        pipeline knows the sentence goes on); the next voiced frame restores the hangover."""
        if self.current is not None:
            self.hangover = max(self.hangover, SAMPLE_RATE * hangover_ms // 1000)

    def noise_level(self) -> float:
        """The room's noise: the quietest tenth of the last NOISE_WINDOW_S seconds' frames."""
        if len(self.recent_energies) < NOISE_MIN_FRAMES:
            return 0.0
        return float(np.percentile(self.recent_energies, NOISE_PERCENTILE))

    def is_voiced(self, frame: np.ndarray, energy: float) -> bool:
        """webrtcvad's verdict on frames above the energy floor and, with ``noise_margin_db``,
        ``noise_margin_db`` above the room's noise: at 10 dB SNR webrtcvad calls babble and hum
        speech, and the pauses between sentences never reach the hangover."""
        if energy < self.floor:
            return False
        if self.options.noise_margin_db and energy < self.noise_level() * self.margin:
            return False
        pcm = (np.clip(frame, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        return self.vad.is_speech(pcm, SAMPLE_RATE)

    def _frame(self, frame: np.ndarray, opened: list[Utterance], closed: list[Utterance]) -> None:
        energy = float(np.sqrt(np.mean(frame * frame)))
        voiced = self.is_voiced(frame, energy)
        self.recent_energies.append(energy)
        self.position += len(frame)
        self.run = self.run + 1 if voiced else 0
        if self.current is None:
            self._before_onset(frame, voiced, energy, opened)
            return
        utterance = self.current
        utterance.append(frame, voiced, energy)
        if voiced:
            self.silence, self.hangover = 0, self.base_hangover
        else:
            self.silence += len(frame)
        if self.silence >= self.hangover:
            closed.append(self._close())
        elif utterance.length >= self.options.max_utterance_s * SAMPLE_RATE:
            closed.append(self._cut_at_quietest(opened))

    def _before_onset(
        self, frame: np.ndarray, voiced: bool, energy: float, opened: list[Utterance]
    ) -> None:
        self.history.append((frame, voiced, energy))
        keep = self.frames_to_start + self.options.pre_roll_ms // self.options.frame_ms
        del self.history[:-keep]
        if self.run < self.frames_to_start:
            return
        history, self.history = self.history, []
        start = self.position - sum(len(f) for f, _, _ in history)
        self.current = Utterance(id=next(self.ids), start=start)
        for f, v, e in history:
            self.current.append(f, v, e)
        self.silence = 0
        opened.append(self.current)

    def _close(self) -> Utterance:
        utterance, self.current = self.current, None
        assert utterance is not None
        utterance.closed = True
        self.history = []
        self.hangover = self.base_hangover
        return utterance

    def _cut_at_quietest(self, opened: list[Utterance]) -> Utterance:
        """Close at the quietest frame of the utterance's second half; continue after it."""
        utterance = self.current
        assert utterance is not None
        energies = utterance.frame_energies
        half = len(energies) // 2
        cut_frame = half + int(np.argmin(energies[half:]))
        cut = cut_frame * self.frame_len
        audio = utterance.samples()
        head, tail = audio[:cut], audio[cut:]
        rest = Utterance(id=next(self.ids), start=utterance.start + cut)
        for i, energy in enumerate(energies[cut_frame:]):
            frame = tail[i * self.frame_len : (i + 1) * self.frame_len]
            rest.append(frame, self.is_voiced(frame, energy), energy)
        utterance.audio, utterance.length = [head], len(head)
        utterance.frame_energies = energies[:cut_frame]
        utterance.speech_end = min(utterance.speech_end, utterance.end)
        utterance.voiced_samples = min(utterance.voiced_samples, utterance.length)
        utterance.closed = True
        self.current = rest
        opened.append(rest)
        return utterance
