"""The live pipeline: audio source → VAD → Whisper → caption events to the sinks.

Two threads. The caller's thread reads audio and runs the VAD (cheap, never blocks on the
model). One ASR worker decodes, in this order of priority: finals of closed utterances
(never skipped), a speculative final as soon as the speaker pauses (reused when the pause
turns out to end the utterance, so the final is ready when the hangover ends), and a partial
of the open utterance when enough new audio has arrived. Partials are computed on the
latest audio only, so they never queue up when the CPU is behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from captioner.asr import SAMPLE_RATE, Hypothesis, WhisperRecognizer
from captioner.audio import AudioSource
from captioner.config import Config
from captioner.events import CaptionEvent
from captioner.guard import check
from captioner.streaming import CommitPolicy
from captioner.vad import Utterance, VadSegmenter

log = logging.getLogger(__name__)

Sink = Callable[[CaptionEvent], None]
PARTIAL_DUTY = 0.5  # partial decodes may keep the worker busy at most this fraction of the time


@dataclass
class Progress:
    """Per-utterance state kept by the ASR worker."""

    policy: CommitPolicy
    partial_until: int = 0  # utterance end (samples) at the last partial decode
    partial_seconds: float = 0.0  # how long the last partial decode took
    speculative: tuple[int, Hypothesis] | None = None  # (speech_end, hypothesis)
    shown: bool = False  # a partial was emitted


@dataclass(frozen=True)
class Task:
    """One decoding for the worker: the audio is copied under the lock."""

    kind: str  # "partial", "speculative" or "final"
    utterance: Utterance
    audio: np.ndarray
    speech_end: int


@dataclass
class PipelineStats:
    """What the pipeline did, for the benchmark and the log."""

    decode_seconds: dict[str, float] = field(default_factory=lambda: {"partial": 0.0, "final": 0.0, "speculative": 0.0})
    decodes: dict[str, int] = field(default_factory=lambda: {"partial": 0, "final": 0, "speculative": 0})
    speculative_hits: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    audio_seconds: float = 0.0


class CaptionPipeline:
    """Runs one audio source through the stages until it ends or :meth:`stop` is called."""

    def __init__(
        self,
        config: Config,
        recognizer: WhisperRecognizer,
        source: AudioSource,
        sinks: list[Sink],
        *,
        partials: bool | None = None,
        backpressure: bool = False,
    ) -> None:
        self.config = config
        self.recognizer = recognizer
        self.source = source
        self.sinks = sinks
        self.partials = config.streaming.partials if partials is None else partials
        self.backpressure = backpressure
        self.segmenter = VadSegmenter(config.vad)
        self.stats = PipelineStats()
        self._cond = threading.Condition()
        self._closed: deque[Utterance] = deque()
        self._open: Utterance | None = None
        self._progress: dict[int, Progress] = {}
        self._done = False
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._context = ("", 0.0)  # (last final text, its end time in seconds)
        self._t0 = 0.0

    def run(self) -> PipelineStats:
        """Block until the source ends (or stop()); re-raise a worker failure."""
        self._t0 = time.monotonic()
        worker = threading.Thread(target=self._worker, name="asr-worker")
        worker.start()
        try:
            for block in self.source.blocks():
                with self._cond:
                    update = self.segmenter.feed(block)
                    self._take(update.opened, update.closed)
                    self.stats.audio_seconds += len(block) / SAMPLE_RATE
                    self._cond.notify_all()
                    while self.backpressure and len(self._closed) > 2 and not self._stop.is_set():
                        self._cond.wait(0.5)
                if self._stop.is_set():
                    break
            with self._cond:
                self._take([], self.segmenter.flush().closed)
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()
            worker.join()
            self.source.close()
        if self._error is not None:
            raise self._error
        return self.stats

    def stop(self) -> None:
        """Ask run() to finish soon (safe from any thread or a signal handler)."""
        self._stop.set()
        self.source.close()
        with self._cond:
            self._cond.notify_all()

    def now(self) -> float:
        """Seconds since the stream started (the events' ``emitted_at`` clock)."""
        return time.monotonic() - self._t0

    # -- audio thread ----------------------------------------------------------------

    def _take(self, opened: list[Utterance], closed: list[Utterance]) -> None:
        for utterance in closed:
            self._closed.append(utterance)
            if self._open is utterance:
                self._open = None
        for utterance in opened:
            if not utterance.closed:
                self._open = utterance

    # -- ASR worker ------------------------------------------------------------------

    def _worker(self) -> None:
        try:
            while True:
                task = self._next_task()
                if task is None:
                    return
                self._run_task(task)
        except BaseException as e:  # surfaced by run()
            log.exception("ASR worker failed")
            self._error = e
            self.stop()

    def _next_task(self) -> Task | None:
        with self._cond:
            while True:
                if self._stop.is_set():
                    return None
                if self._closed:
                    utterance = self._closed.popleft()
                    self._cond.notify_all()
                    return self._task("final", utterance)
                task = self._open_task()
                if task is not None:
                    return task
                if self._done:
                    return None
                self._cond.wait(0.2)

    def _open_task(self) -> Task | None:
        utterance = self._open
        if utterance is None or not self.partials:
            return None
        options = self.config.streaming
        progress = self._progress_of(utterance)
        silence = utterance.end - utterance.speech_end
        if silence >= options.final_tail_ms * SAMPLE_RATE // 1000:
            done = progress.speculative and progress.speculative[0] == utterance.speech_end
            if not done and self._enough_speech(utterance):
                return self._task("speculative", utterance)
            return None
        if silence > 0:
            return None  # maybe a pause: keep the worker free for the speculative final
        if progress.partial_until == 0:
            due = utterance.voiced_samples >= options.first_partial_ms * SAMPLE_RATE // 1000
        else:
            interval = max(options.partial_interval_ms / 1000, progress.partial_seconds / PARTIAL_DUTY)
            due = utterance.end - progress.partial_until >= interval * SAMPLE_RATE
        if due:
            progress.partial_until = utterance.end
            return self._task("partial", utterance)
        return None

    def _task(self, kind: str, utterance: Utterance) -> Task:
        until = utterance.end if kind == "partial" else self._final_end(utterance)
        return Task(kind, utterance, utterance.samples(until), utterance.speech_end)

    def _run_task(self, task: Task) -> None:
        utterance = task.utterance
        progress = self._progress_of(utterance)
        if task.kind == "final":
            self._progress.pop(utterance.id, None)
            self._finish(task, progress)
            return
        hypothesis = self._decode(task, progress.policy.committed)
        if task.kind == "speculative":
            progress.speculative = (task.speech_end, hypothesis)
            return
        progress.partial_seconds = hypothesis.seconds
        text = self._accept(hypothesis)
        if text is None:
            return
        committed = progress.policy.update(text)
        progress.shown = True
        self._emit(task, text, committed, utterance.start + len(task.audio))

    def _finish(self, task: Task, progress: Progress) -> None:
        policy = progress.policy
        if not self._enough_speech(task.utterance):
            if progress.shown:
                self._emit(task, policy.committed, policy.committed, task.speech_end)
            return
        speculative = progress.speculative
        if speculative and speculative[0] == task.speech_end:
            hypothesis = speculative[1]
            self.stats.speculative_hits += 1
        else:
            hypothesis = self._decode(task, policy.committed)
        text = policy.final(self._accept(hypothesis) or "")
        if text or progress.shown:
            self._emit(task, text, text, task.speech_end, hypothesis)
        if text:
            self._context = (text, task.speech_end / SAMPLE_RATE)

    def _decode(self, task: Task, prefix: str) -> Hypothesis:
        options = self.config.asr
        beam = options.partial_beam_size if task.kind == "partial" else options.final_beam_size
        hypothesis = self.recognizer.transcribe(
            task.audio, beam_size=beam, previous_text=self._previous_text(task.utterance), prefix=prefix
        )
        self.stats.decodes[task.kind] += 1
        self.stats.decode_seconds[task.kind] += hypothesis.seconds
        return hypothesis

    def _accept(self, hypothesis: Hypothesis) -> str | None:
        """The text to show (decoding loops collapsed), or None if the guard drops it."""
        verdict = check(hypothesis, self.config.guard)
        if verdict.reason is not None:
            self.stats.rejected[verdict.reason] = self.stats.rejected.get(verdict.reason, 0) + 1
            log.debug("dropped %r: %s", hypothesis.text, verdict.reason)
            return None
        return verdict.text

    def _previous_text(self, utterance: Utterance) -> str:
        text, ended = self._context
        if not self.config.asr.condition_on_previous or not text:
            return ""
        if utterance.start / SAMPLE_RATE - ended > self.config.streaming.context_max_gap_s:
            return ""
        return text

    def _emit(
        self, task: Task, text: str, committed: str, audio_end: int, hypothesis: Hypothesis | None = None
    ) -> None:
        details = {}
        if hypothesis is not None:
            details = {
                "avg_logprob": round(hypothesis.avg_logprob, 3),
                "no_speech_prob": round(hypothesis.no_speech_prob, 3),
            }
        event = CaptionEvent(
            kind="final" if task.kind == "final" else "partial",
            utterance_id=task.utterance.id,
            text=text,
            audio_start=task.utterance.start / SAMPLE_RATE,
            audio_end=audio_end / SAMPLE_RATE,
            emitted_at=self.now(),
            committed=committed,
            details=details,
        )
        for sink in self.sinks:
            try:
                sink(event)
            except Exception:
                log.exception("caption sink %r failed; captions continue", sink)

    def _progress_of(self, utterance: Utterance) -> Progress:
        progress = self._progress.get(utterance.id)
        if progress is None:
            policy = CommitPolicy(self.config.streaming.commit_without_boundary_chars)
            progress = self._progress[utterance.id] = Progress(policy)
        return progress

    def _enough_speech(self, utterance: Utterance) -> bool:
        return utterance.voiced_samples >= self.config.vad.min_speech_ms * SAMPLE_RATE // 1000

    def _final_end(self, utterance: Utterance) -> int:
        tail = self.config.streaming.final_tail_ms * SAMPLE_RATE // 1000
        return min(utterance.end, utterance.speech_end + tail)
