"""Open files: the web server raises its soft limit at start, and asyncio's "out of open files"
errors become one short log line now and then instead of a traceback per failed accept.

Every connection is a file descriptor. When the process has none left, asyncio's
``_accept_connection`` reports every failed ``accept()`` through the loop's exception handler
(``socket.accept() out of system resource`` with the ``OSError``), which logs it with a full
traceback, and schedules a retry of the listening socket per failure (CPython gh-151615): when
the server closes while such retries are pending, each logs ``Exception in callback
BaseSelectorEventLoop._start_serving(...)`` with ``ValueError: Invalid file descriptor: -1``.
That is thousands of tracebacks a second. :class:`AcceptErrors` turns the first kind into one
line per :data:`REPORT_EVERY_S` with the count (:class:`Sparse`), drops the second, and passes
every other record unchanged.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

OPEN_FILES = 65_536  # the soft limit wanted: idle connections from one client must not use up 1,024
REPORT_EVERY_S = 30.0  # at most one line per this many seconds about failed accepts
ACCEPT_ERROR = "socket.accept() out of system resource"  # asyncio's message (selector_events.py)
OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
STALE_RETRY = "Exception in callback BaseSelectorEventLoop._start_serving("  # a retry after the server closed


def raise_open_files_limit(wanted: int = OPEN_FILES) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (at most the hard limit;
    systemd's default is 1,024 soft and 524,288 hard); the soft limit now. Silent when it is
    already high enough; a refusal is a warning, never a failed start."""
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as e:
            log.warning("cannot raise the open-files limit from %d to %d: %s", soft, target, e)
    return soft


class Sparse:
    """Says something that can happen thousands of times a second (a failed accept, a refused
    connection) at most once every ``every`` seconds with how often it happened: the first time
    at once, later ones counted and said (``say(count)``) when the time is up."""

    def __init__(self, say: Callable[[int], None], every: float = REPORT_EVERY_S) -> None:
        self.say, self.every = say, every
        self.pending = 0  # counted, not yet said
        self.said_at: float | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()  # counted from any thread (every event loop logs through one logger)

    def count(self) -> None:
        with self._lock:
            self.pending += 1
            if self._timer is not None:  # a line is on its way
                return
            wait = 0.0 if self.said_at is None else self.said_at + self.every - time.monotonic()
            if wait > 0:
                self._timer = threading.Timer(wait, self._flush)
                self._timer.daemon = True  # what is still counted when the process ends goes unsaid
                self._timer.start()
                return
            said = self._take()
        self.say(said)

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            said = self._take()
        self.say(said)

    def _take(self) -> int:
        said, self.pending, self.said_at = self.pending, 0, time.monotonic()
        return said


class AcceptErrors(logging.Filter):
    """A filter for the ``asyncio`` logger (see the module doc): failed accepts for lack of
    resources become one WARNING line without traceback at most every ``every`` seconds, with
    the count since the line before."""

    def __init__(self, every: float = REPORT_EVERY_S, logger: str = "asyncio") -> None:
        super().__init__()
        self.logger = logging.getLogger(logger)
        self.failed = Sparse(self._say, every)
        self.error = ""  # the last failed accept's error

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        message = str(record.msg)
        if isinstance(error, ValueError) and message.startswith(STALE_RETRY):
            return False
        if not (isinstance(error, OSError) and error.errno in OUT_OF_RESOURCES and message.startswith(ACCEPT_ERROR)):
            return True
        self.error = error.strerror or str(error)
        self.failed.count()
        return False

    def _say(self, failed: int) -> None:
        self.logger.warning("web server out of open files (%s): %d accept(s) failed; said at most every %g s",
                            self.error, failed, self.failed.every)  # fmt: skip


def quiet_accept_errors() -> AcceptErrors:
    """Install :class:`AcceptErrors` on the ``asyncio`` logger (once per process); the filter."""
    logger = logging.getLogger("asyncio")
    for existing in logger.filters:
        if isinstance(existing, AcceptErrors):
            return existing
    installed = AcceptErrors()
    logger.addFilter(installed)
    return installed
