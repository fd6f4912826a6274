"""The live pipeline: audio source → VAD → recognizer → caption events to one ``emit`` sink.

Three threads. The caller's thread reads audio and runs the VAD (cheap; it never waits for
the model). The *final* worker decodes finals of closed utterances (never skipped) and a
speculative final as soon as the speaker has paused briefly: when the pause turns out to
end the utterance, the final is ready the moment the VAD closes it. The *partial* worker
re-decodes the open utterance when enough new audio has arrived, on the latest audio only,
so partials never queue up, and it never holds up a final: the two decode in parallel.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from captioner.core.audio import SAMPLE_RATE
from captioner.core.events import CLERK, CaptionEvent
from captioner.core.stages import Sink
from captioner.engine.audio import AudioOptions, AudioSource
from captioner.engine.guard import WRONG_SCRIPT, GuardOptions, Verdict, check
from captioner.engine.memory import release_free_memory
from captioner.engine.numbers import repair_numbers
from captioner.engine.recognizer import HOTWORD_SEPARATOR, AsrOptions, Hypothesis, Recognizer
from captioner.engine.streaming import CommitPolicy, StreamingOptions, ends_sentence, stops_mid_sentence
from captioner.engine.vad import Utterance, VadOptions, VadSegmenter

log = logging.getLogger(__name__)

PARTIAL_DUTY = 0.5  # partial decodes may keep their worker busy at most this fraction of the time
WORKER_BACKOFF_S = (0.5, 8.0)  # a failed decoding restarts its worker after 0.5 s, doubling up to 8 s
WORKER_MAX_FAILURES = 6  # consecutive failures before the pipeline stops with the error
FIRST_RETRY_MS = 250  # new audio before the next partial while the guard has dropped every one so far
TRIM_INTERVAL_S = 60.0  # the final worker hands freed heap memory back to the system at most this often


@dataclass
class Progress:
    """Per-utterance state shared by the two workers (guarded by the pipeline's lock)."""

    policy: CommitPolicy
    partial_until: int = 0  # utterance end (samples) at the last partial decode
    partial_seconds: float = 0.0  # how long the last partial decode took
    speculative: tuple[int, str, Hypothesis] | None = None  # (speech_end, prefix, result)
    shown: bool = False  # a partial was emitted
    finished: bool = False  # the final was emitted: no more partials


@dataclass(frozen=True)
class Task:
    """One decoding for a worker; the audio is copied under the lock."""

    kind: str  # "partial", "speculative" or "final"
    utterance: Utterance
    audio: np.ndarray
    speech_end: int
    progress: Progress


@dataclass
class PipelineStats:
    """What the pipeline did, for the benchmark and the log."""

    decode_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    decodes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    speculative_hits: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    audio_seconds: float = 0.0
    worker_restarts: int = 0  # decodings that raised and were retried after a backoff


KINDS = ("partial", "speculative", "final")


class EngineSettings(Protocol):
    """The configuration sections the pipeline reads (the app's Config has them all)."""

    audio: AudioOptions
    vad: VadOptions
    asr: AsrOptions
    streaming: StreamingOptions
    guard: GuardOptions


class CaptionPipeline:
    """Runs one audio source until it ends or :meth:`stop` is called; every event goes to ``emit``.

    ``emit`` is called from the decoding threads, one event at a time, in order.
    ``prompt_words(heard)`` (e.g. registered names) conditions the decodings when the
    recognizer takes a prompt: partials get ``prompt_words("")``; finals get the words for what
    the latest partial of the utterance heard (the partials are a free first pass). ``ids`` numbers utterances (a session shares one counter across its
    pipelines); ``source_name`` is the events' ``source``.
    """

    def __init__(
        self,
        config: EngineSettings,
        recognizer: Recognizer,
        source: AudioSource,
        emit: Sink,
        *,
        partials: bool | None = None,
        backpressure: bool = False,
        prompt_words: Callable[[str], Sequence[str]] | None = None,
        ids: Iterator[int] | None = None,
        source_name: str = CLERK,
    ) -> None:
        self.config = config
        self.recognizer = recognizer
        self.source = source
        self.emit = emit
        self.partials = config.streaming.partials if partials is None else partials
        self.backpressure = backpressure
        self.prompt_words = prompt_words if recognizer.capabilities.hotwords else None
        self.source_name = source_name
        self.segmenter = VadSegmenter(config.vad, ids)
        self.stats = PipelineStats()
        self._cond = threading.Condition()
        self._emit_lock = threading.Lock()
        self._closed: deque[Utterance] = deque()
        self._open: Utterance | None = None
        self._progress: dict[int, Progress] = {}
        self._done = False
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._context = ("", 0.0)  # (last final text, its end time in seconds)
        self._t0 = 0.0

    def run(self) -> PipelineStats:
        """Block until the source ends (or stop()); re-raise a worker failure."""
        self._t0 = time.monotonic()
        workers = [threading.Thread(target=self._worker, args=("final",), name="asr-final")]
        if self.partials:
            workers.append(threading.Thread(target=self._worker, args=("partial",), name="asr-partial"))
        for worker in workers:
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
            for worker in workers:
                worker.join()
            self.source.close()
        if self._errors:
            raise self._errors[0]
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

    # -- workers -----------------------------------------------------------------------

    def _worker(self, role: str) -> None:
        failures = 0  # consecutive failed tasks: the worker restarts with backoff, gives up at WORKER_MAX_FAILURES
        last_trim = time.monotonic()
        try:
            task = self._next_task(role)
            while task is not None:
                try:
                    if task.kind == "final":
                        self._finish(task)
                        last_trim = self._trim_memory(last_trim)
                    elif task.kind == "speculative":
                        self._speculate(task)
                    else:
                        self._partial(task)
                    failures = 0
                except Exception:
                    failures += 1
                    if failures >= WORKER_MAX_FAILURES:
                        raise
                    delay = min(WORKER_BACKOFF_S[1], WORKER_BACKOFF_S[0] * 2 ** (failures - 1))
                    log.exception(
                        "ASR %s worker: %s decoding of utterance %d failed (%d in a row); restarting in %.1f s",
                        role, task.kind, task.utterance.id, failures, delay,
                    )  # fmt: skip
                    with self._cond:
                        self.stats.worker_restarts += 1
                    if not self._stop.wait(delay) and task.kind == "final":
                        continue  # a final is retried, never skipped
                task = self._next_task(role)
        except BaseException as e:  # surfaced by run()
            log.exception("ASR %s worker failed", role)
            self._errors.append(e)
            self.stop()

    @staticmethod
    def _trim_memory(last: float) -> float:
        """After a final, at most every TRIM_INTERVAL_S: return freed heap pages (see release_free_memory)."""
        now = time.monotonic()
        if now - last < TRIM_INTERVAL_S:
            return last
        release_free_memory()
        return now

    def _next_task(self, role: str) -> Task | None:
        with self._cond:
            while not self._stop.is_set():
                task = self._final_task() if role == "final" else self._partial_task()
                if task is not None:
                    return task
                if self._done and (role == "partial" or not self._closed):
                    return None
                self._cond.wait(0.2)
            return None

    def _final_task(self) -> Task | None:
        if self._closed:
            utterance = self._closed.popleft()
            self._cond.notify_all()
            return self._task("final", utterance)
        utterance = self._open
        if utterance is None or not self.partials or not self._enough_speech(utterance):
            return None
        silence = utterance.end - utterance.speech_end
        if silence < self.config.streaming.final_tail_ms * SAMPLE_RATE // 1000:
            return None
        speculative = self._progress_of(utterance).speculative
        if speculative is None or speculative[0] != utterance.speech_end:
            return self._task("speculative", utterance)
        if self._sentence_ended(silence, speculative[2]):
            closed = self.segmenter.close_open()  # the final is ready: no need to wait for the hangover
            if closed is not None:
                self._take([], [closed])
                return self._final_task()
        elif self.config.streaming.mid_sentence_ms and stops_mid_sentence(speculative[2].text):
            self.segmenter.hold(self.config.streaming.mid_sentence_ms)  # a pause at a comma: the sentence goes on
        return None

    def _sentence_ended(self, silence: int, speculative: Hypothesis) -> bool:
        """A pause of ``sentence_end_ms`` after a speculative final that ends a sentence closes
        the utterance before the VAD's (longer) hangover, which keeps pauses inside a sentence
        (at a comma) from cutting it."""
        wait = self.config.streaming.sentence_end_ms
        return 0 < wait * SAMPLE_RATE // 1000 <= silence and ends_sentence(speculative.text)

    def _partial_task(self) -> Task | None:
        utterance = self._open
        if utterance is None or utterance.end > utterance.speech_end:
            return None  # nothing open, or a pause: the final worker may be speculating
        options = self.config.streaming
        progress = self._progress_of(utterance)
        if progress.partial_until == 0:
            due = utterance.has_speech(options.first_partial_ms * SAMPLE_RATE // 1000, self.config.vad.pre_roll_ms * SAMPLE_RATE // 1000)
        else:
            # until something is shown, retry sooner: a first partial of a short start is often dropped as no speech
            wanted = options.partial_interval_ms if progress.shown else min(options.partial_interval_ms, FIRST_RETRY_MS)
            interval = max(wanted / 1000, progress.partial_seconds / PARTIAL_DUTY)
            due = utterance.end - progress.partial_until >= interval * SAMPLE_RATE
        if not due:
            return None
        progress.partial_until = utterance.end
        return self._task("partial", utterance)

    def _task(self, kind: str, utterance: Utterance) -> Task:
        until = utterance.end if kind == "partial" else self._final_end(utterance)
        progress = self._progress_of(utterance)
        if kind == "final":
            del self._progress[utterance.id]
        return Task(kind, utterance, utterance.samples(until), utterance.speech_end, progress)

    def _partial(self, task: Task) -> None:
        progress = task.progress
        hypothesis = self._decode(task, progress.policy.committed)
        text = self._accept(hypothesis, task)
        with self._cond:
            progress.partial_seconds = hypothesis.seconds
            if text is None or progress.finished:
                return
            committed = progress.policy.update(text)
            progress.shown = True
        self._emit(task, text, committed, task.utterance.start + len(task.audio))

    def _speculate(self, task: Task) -> None:
        prefix = task.progress.policy.committed
        hypothesis = self._decode(task, prefix)
        with self._cond:
            task.progress.speculative = (task.speech_end, prefix, hypothesis)

    def _finish(self, task: Task) -> None:
        progress = task.progress
        with self._cond:
            progress.finished = True  # a partial still decoding will not be shown
        policy = progress.policy
        if not self._enough_speech(task.utterance):
            if progress.shown:
                self._emit(task, policy.committed, policy.committed, task.speech_end)
            return
        speculative = progress.speculative
        if speculative and speculative[:2] == (task.speech_end, policy.committed):
            hypothesis = speculative[2]
            self.stats.speculative_hits += 1
        else:
            hypothesis = self._decode(task, policy.committed)
        verdict = self._verdict(hypothesis, task)
        if verdict.reason == WRONG_SCRIPT:  # romaji: once more without context, which often causes it
            hypothesis = self._decode(task, policy.committed, context=False)
            verdict = self._verdict(hypothesis, task)
        text = policy.final(verdict.text if verdict.reason is None else "", forced=self._forced_final)
        if text or progress.shown:
            self._emit(task, text, text, task.speech_end, hypothesis)
        if text:
            self._context = (text, task.speech_end / SAMPLE_RATE)

    def _decode(self, task: Task, prefix: str, context: bool = True) -> Hypothesis:
        """Decode a task; ``context=False``: without the previous caption and prompted words."""
        options = self.config.asr
        beam = options.partial_beam_size if task.kind == "partial" else options.final_beam_size
        words: tuple[str, ...] = ()
        if self.prompt_words is not None and context:
            with self._cond:
                heard = "" if task.kind == "partial" else task.progress.policy.previous or ""
            words = tuple(self.prompt_words(heard))
        hypothesis = self.recognizer.transcribe(
            task.audio,
            beam_size=beam,
            previous_text=self._previous_text(task.utterance) if context and self.recognizer.capabilities.prompt else "",
            prefix=prefix if self.recognizer.capabilities.forced_prefix and (task.kind == "partial" or self._forced_final) else "",
            hotwords=HOTWORD_SEPARATOR.join(words),
        )
        with self._cond:
            self.stats.decodes[task.kind] += 1
            self.stats.decode_seconds[task.kind] += hypothesis.seconds
        return dataclasses.replace(hypothesis, prompted=words) if words else hypothesis

    @property
    def _forced_final(self) -> bool:
        return self.config.streaming.final_prefix == "forced"

    def _accept(self, hypothesis: Hypothesis, task: Task) -> str | None:
        """The text to show (decoding loops collapsed), or None if the guard drops it."""
        verdict = self._verdict(hypothesis, task)
        return verdict.text if verdict.reason is None else None

    def _verdict(self, hypothesis: Hypothesis, task: Task) -> Verdict:
        """The guard's verdict on a decoding; a rejection is counted and logged. Without a
        no-speech probability from the backend, the guard weighs the text against the audio decoded."""
        seconds = None if self.recognizer.capabilities.no_speech_prob else len(task.audio) / SAMPLE_RATE
        verdict = check(hypothesis, self.config.guard, hypothesis.prompted, self.config.asr.language, seconds)
        if verdict.reason is None and self.config.asr.language == "ja":
            verdict = Verdict(repair_numbers(verdict.text))
        if verdict.reason is not None:
            with self._cond:
                self.stats.rejected[verdict.reason] = self.stats.rejected.get(verdict.reason, 0) + 1
            log.debug("dropped %r: %s", hypothesis.text, verdict.reason)
        return verdict

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
        is_final = task.kind == "final"
        with self._emit_lock:
            if not is_final and task.progress.finished:
                return  # the final overtook this partial
            event = CaptionEvent(
                kind="final" if is_final else "partial",
                utterance_id=task.utterance.id,
                text=text,
                audio_start=task.utterance.start / SAMPLE_RATE,
                audio_end=audio_end / SAMPLE_RATE,
                emitted_at=0.0,
                committed=committed,
                details=details,
                source=self.source_name,
                language=self.config.asr.language,
            )
            self.emit(dataclasses.replace(event, emitted_at=self.now()))

    def _progress_of(self, utterance: Utterance) -> Progress:
        progress = self._progress.get(utterance.id)
        if progress is None:
            options = self.config.streaming
            policy = CommitPolicy(options.commit_without_boundary_chars, options.commit_agreement)
            progress = self._progress[utterance.id] = Progress(policy)
        return progress

    def _enough_speech(self, utterance: Utterance) -> bool:
        return utterance.voiced_samples >= self.config.vad.min_speech_ms * SAMPLE_RATE // 1000

    def _final_end(self, utterance: Utterance) -> int:
        tail = self.config.streaming.final_tail_ms * SAMPLE_RATE // 1000
        return min(utterance.end, utterance.speech_end + tail)
