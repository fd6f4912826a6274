"""The stage protocols and the one fan-out that isolates a failing sink from the others.

Events travel one way: the pipeline emits a :class:`~captioner.core.events.CaptionEvent`,
each :class:`Transform` (dictionary correction, masking) turns it into a new event, a stage
such as translation wraps the sinks and may send an event again later as an update,
and the sinks (terminal, caption window, web hub, conversation log) show or store it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from captioner.core.events import CaptionEvent

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Takes an event; must not block the pipeline for long (queue slow work)."""

    def __call__(self, event: CaptionEvent) -> None: ...


class Transform(Protocol):
    """Event in, event out (``dataclasses.replace``); runs in the pipeline's emitting thread."""

    def __call__(self, event: CaptionEvent) -> CaptionEvent: ...


def fan_out(sinks: Sequence[Sink]) -> Sink:
    """One sink that calls every sink in order; a sink that raises is logged and the others go on."""
    sinks = tuple(sinks)

    def deliver(event: CaptionEvent) -> None:
        for sink in sinks:
            try:
                sink(event)
            except Exception:
                log.exception("caption sink %r failed; captions continue", sink)

    return deliver


def transformed(transform: Transform, sink: Sink, name: str) -> Sink:
    """``sink`` fed with ``transform(event)``; when the transform raises, the event goes on unchanged."""

    def deliver(event: CaptionEvent) -> None:
        try:
            event = transform(event)
        except Exception:  # a bug in one stage must not stop captions
            log.exception("%s failed on %r; the caption is shown without it", name, event.text)
        sink(event)

    return deliver
