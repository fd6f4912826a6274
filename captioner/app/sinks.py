"""Where caption events go in a terminal: live text overwritten in place, or JSON Lines."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from captioner.core.events import UPDATE_TRANSLATION, CaptionEvent
from captioner.core.stages import Sink, transformed

DIM = "\x1b[2m"
RESET = "\x1b[0m"
CLEAR_LINE = "\r\x1b[K"


class TerminalPrinter:
    """Partials overwrite the current line (tentative text dimmed); finals get their own line,
    and their translations (when they come) one indented line per language.

    When the output is not a terminal only finals are printed, one per line.
    """

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._lock = threading.Lock()

    def __call__(self, event: CaptionEvent) -> None:
        text = event.display_text
        with self._lock:
            if event.is_final and event.update == UPDATE_TRANSLATION:
                if self.live:
                    self.stream.write(CLEAR_LINE)
                for language, translated in event.translations.items():
                    self.stream.write(f"  [{language}] {translated}\n")
            elif event.is_final:
                if self.live:
                    self.stream.write(CLEAR_LINE)
                if text:
                    self.stream.write(text + "\n")
            elif self.live:
                committed = event.display_committed
                self.stream.write(f"{CLEAR_LINE}{committed}{DIM}{text[len(committed):]}{RESET}")
            self.stream.flush()


def terminal_sink(jsonl: bool = False, stream: TextIO | None = None) -> Sink:
    """``captioner run``'s captions without the window: JSON Lines when asked for, else the
    printer. Where the output is no terminal (a service's journal, ``run.log``) the printer's
    text is masked as the conversation log masks it: personal numbers must not reach a log file."""
    if jsonl:
        return JsonLinesWriter(stream)
    printer = TerminalPrinter(stream)
    if printer.live:
        return printer
    from captioner.convlog.masking import ScreenMasking

    return transformed(ScreenMasking(), printer, "masking")


class JsonLinesWriter:
    """One JSON object per event per line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __call__(self, event: CaptionEvent) -> None:
        with self._lock:
            self.stream.write(event.to_json() + "\n")
            self.stream.flush()


class FinalsCollector:
    """Keeps every event in memory (transcribe and the benchmark read them afterwards)."""

    def __init__(self) -> None:
        self.events: list[CaptionEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: CaptionEvent) -> None:
        with self._lock:
            self.events.append(event)

    @property
    def finals(self) -> list[CaptionEvent]:
        return [e for e in self.events if e.is_final and e.text]
