"""The conversation log: final captions, masked, in one JSON Lines file per day, on this PC only.

Off by default (``conversation_log.enabled``). Each final caption is one line in
``FOLDER/YYYY-MM-DD.jsonl``, written with append + flush + fsync before the next caption, so
a power cut loses at most the caption being written; a translation that arrives later is a
second line for the same utterance (``captioner log export`` merges them). Personal numbers
are masked *before* anything is written (:mod:`captioner.convlog.masking`); audio is never stored.
Files older than ``retention_days`` are deleted at start-up and once a day.

A folder that cannot be written (read-only, missing permission, disk full) never stops
captions: the problem is reported through ``on_status`` and the log, the records are kept in
memory (up to ``BACKLOG_MAX``) and written as soon as writing works again.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from captioner.convlog.masking import mask
from captioner.core.errors import CaptionerError
from captioner.core.events import UPDATE_CORRECTION, UPDATE_TRANSLATION, CaptionEvent
from captioner.core.paths import data_dir

log = logging.getLogger(__name__)

LOG_UNWRITABLE = "会話ログを保存できません: {reason}  Conversation log cannot be written"
LINE_SKIPPED = "会話ログ: 書けない文字を含む字幕を {count} 件飛ばしました  Conversation log skipped {count} unwritable captions"
CLOCK_JUMPED = "時計が {minutes:+.0f} 分ずれました。ログの自動削除を止めています  System clock jumped"
BACKLOG_MAX = 10_000  # records kept in memory while the folder cannot be written
CLOCK_JUMP_S = 300.0  # wall clock moving this much more (or less) than the monotonic clock
FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl$")

StatusCallback = Callable[[str | None], None]


@dataclass
class ConversationLogOptions:
    """The conversation log (``conversation_log:`` in the config)."""

    enabled: bool = False  # off by default: residents' words are personal data
    folder: str = ""  # "" = ~/.local/share/captioner/conversations
    retention_days: int = 30  # files older than this many days are deleted; 0 = keep them
    mask_on_screen: bool = False  # also mask personal numbers in the window and the browser viewer

    def validate(self) -> None:
        if self.retention_days < 0:
            raise ValueError(f"retention_days must be 0 (keep) or a number of days, got {self.retention_days}")


def log_folder(options: ConversationLogOptions) -> Path:
    if options.folder:
        return Path(options.folder).expanduser()
    return data_dir() / "conversations"


def _reason(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "ディスクがいっぱいです (disk full)"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"書き込み権限がありません (not writable: {error.filename or ''})"
    return f"{error.strerror or error} ({error.filename or ''})"


class ConversationLog:
    """A sink that appends masked final captions to today's file; safe from several threads."""

    def __init__(
        self,
        options: ConversationLogOptions,
        *,
        on_status: StatusCallback | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.folder = log_folder(options)
        self.on_status = on_status
        self._now = now
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._backlog: deque[tuple[str, bytes]] = deque()  # (day, line) not written yet
        self._context = ""  # previous final's raw text (a birth date answers a question)
        self._problem: str | None = None
        self._clock: tuple[dt.datetime, float] | None = None
        self._clock_trusted = True
        self._purged_on: dt.date | None = None
        self.session = self._now().strftime("%Y%m%dT%H%M%S")
        self.written = 0
        self.dropped = 0
        self.skipped = 0  # records that cannot be encoded (a lone surrogate): reported, never written
        self.purge()

    # -- the sink ----------------------------------------------------------------------

    def __call__(self, event: CaptionEvent) -> None:
        if not event.is_final:
            return
        with self._lock:
            now = self._check_clock()
            record: dict[str, Any] = {
                "time": now.isoformat(timespec="seconds"),
                "session": self.session,
                "utterance": event.utterance_id,
            }
            if event.update == UPDATE_TRANSLATION:  # the same final again, with its translations
                if not event.translations:
                    return
                record["translations"] = {k: mask(v).text for k, v in event.translations.items()}
            else:
                if not event.display_text:
                    return
                masked = mask(event.display_text, self._context)
                self._context = event.display_text
                record.update(
                    text=masked.text,
                    audio_start=round(event.audio_start, 2),
                    audio_end=round(event.audio_end, 2),
                )
                if masked.kinds:
                    record["masked"] = list(masked.kinds)
                if event.source != "clerk":  # a resident's reply or button (web/conversation/exchange.py)
                    record.update(source=event.source, language=event.language)
                if event.update == UPDATE_CORRECTION:  # the clerk's fix of this utterance's caption
                    record["corrected"] = True
            self._append(now.date().isoformat(), json.dumps(record, ensure_ascii=False))
            if self._purged_on != now.date():
                self._purge_locked(now)

    def _append(self, day: str, line: str) -> None:
        try:
            data = (line + "\n").encode("utf-8")
        except UnicodeEncodeError as e:  # skipped: it must not block the captions after it
            self.skipped += 1
            log.warning("conversation log: a caption with text that cannot be encoded was skipped (%s)", e.reason)
            self._notify(LINE_SKIPPED.format(count=self.skipped))
            return
        self._backlog.append((day, data))
        while len(self._backlog) > BACKLOG_MAX:
            self._backlog.popleft()
            self.dropped += 1
        try:
            self._flush_backlog()
        except OSError as e:
            self._report(_reason(e), e)
        else:
            self._report(None)

    def _flush_backlog(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        while self._backlog:
            day, line = self._backlog[0]
            _append_line(self.folder / f"{day}.jsonl", line)
            self._backlog.popleft()
            self.written += 1

    def _report(self, problem: str | None, error: BaseException | None = None) -> None:
        if problem == self._problem:
            return
        self._problem = problem
        if problem is None:
            log.info("conversation log: writing to %s again", self.folder)
        else:
            log.error("conversation log: cannot write to %s: %s (%d captions kept in memory)", self.folder, error, len(self._backlog))
        self._notify(None if problem is None else LOG_UNWRITABLE.format(reason=problem))

    def _notify(self, status: str | None) -> None:
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("conversation log status callback failed")

    def flush(self) -> bool:
        """Try to write what is kept in memory; True when nothing is left."""
        with self._lock:
            if self._backlog:
                try:
                    self._flush_backlog()
                except OSError as e:
                    self._report(_reason(e), e)
                    return False
                self._report(None)
            return True

    close = flush

    # -- time and retention --------------------------------------------------------------

    def _check_clock(self) -> dt.datetime:
        """Now; notices the wall clock jumping (no more deletions then: dates are not trusted)."""
        now, mono = self._now(), self._monotonic()
        if self._clock is not None:
            wall_s = (now - self._clock[0]).total_seconds()
            drift = wall_s - (mono - self._clock[1])
            if abs(drift) > CLOCK_JUMP_S:
                self._clock_trusted = False
                log.warning("conversation log: the system clock jumped by %+.0f s; old logs are not deleted until restart", drift)
                self._notify(CLOCK_JUMPED.format(minutes=drift / 60))
        self._clock = (now, mono)
        return now

    def purge(self) -> list[Path]:
        """Delete day files older than ``retention_days``; the deleted paths."""
        with self._lock:
            return self._purge_locked(self._now())

    def _purge_locked(self, now: dt.datetime) -> list[Path]:
        self._purged_on = now.date()
        if self.options.retention_days <= 0 or not self._clock_trusted or not self.folder.is_dir():
            return []
        try:
            days = day_files(self.folder)
        except OSError as e:
            log.warning("conversation log: cannot list %s: %s", self.folder, e)
            return []
        if days and max(days) > now.date():  # files from the future: the clock went back; keep everything
            log.warning("conversation log: files dated after today (%s): the clock may be wrong; nothing deleted", max(days))
            return []
        cutoff = now.date() - dt.timedelta(days=self.options.retention_days)
        deleted = []
        for day, path in sorted(days.items()):
            if day < cutoff:
                try:
                    path.unlink()
                    deleted.append(path)
                except OSError as e:
                    log.warning("conversation log: cannot delete %s: %s", path, e)
        if deleted:
            log.info("conversation log: deleted %d files older than %d days", len(deleted), self.options.retention_days)
        return deleted


def _append_line(path: Path, line: bytes) -> None:
    """Append one line (UTF-8, ending in a newline) and make it durable (flush + fsync) before returning.

    If an earlier write was cut off (disk full, power cut), the broken tail is ended with a
    newline first, so it cannot swallow this record.
    """
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        data = line
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def day_files(folder: Path) -> dict[dt.date, Path]:
    """``YYYY-MM-DD.jsonl`` files in ``folder`` by date (other files are never touched)."""
    found = {}
    for path in folder.iterdir():
        match = FILE_NAME.match(path.name)
        if match and path.is_file():
            try:
                found[dt.date.fromisoformat(match.group(1))] = path
            except ValueError:
                continue
    return found


# --- export ------------------------------------------------------------------------------


def read_records(folder: Path, start: dt.date, end: dt.date) -> Iterator[dict[str, Any]]:
    """Final captions from ``start`` to ``end`` (inclusive), translations merged in.

    A line that does not parse (the last one after a power cut) is skipped with a warning.
    """
    if not folder.is_dir():
        raise CaptionerError(f"conversation log folder {folder} does not exist")
    for day, path in sorted(day_files(folder).items()):
        if not start <= day <= end:
            continue
        records: dict[tuple[str, int], dict[str, Any]] = {}
        order: list[tuple[str, int]] = []
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    key = (str(item["session"]), int(item["utterance"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d: not a complete record (cut off by a power cut?); skipped", path, number)
                    continue
                if "translations" in item and key in records:
                    records[key].setdefault("translations", {}).update(item["translations"])
                elif "text" in item:
                    if key not in records:
                        order.append(key)
                    records[key] = item  # a correction replaces the caption it corrects
        for key in order:
            yield records[key]


def export(folder: Path, start: dt.date, end: dt.date, out: TextIO) -> int:
    """Write the merged records as JSON Lines to ``out``; the number of captions."""
    count = 0
    for record in read_records(folder, start, end):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
