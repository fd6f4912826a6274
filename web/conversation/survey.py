"""Satisfaction answers from the tablet (1 to 5 and an optional comment), in SQLite on this PC.

Only the answer is stored: the score, the optional comment the resident typed into the
survey, the day and time, the counter's name, the tablet's language and the conversation's
id (a number, never its text). The admin page shows the average per day and per counter and
exports CSV, whose cells are made safe for spreadsheets (a cell starting with = + - @ is
prefixed with ' so Excel never runs it as a formula).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError
from captioner.core.text import writable

log = logging.getLogger(__name__)

FILE = "survey.sqlite3"
MAX_COMMENT = 500
TABLETS_PER_CONVERSATION = 4  # answers one conversation may get (a counter has one or two tablets)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    counter TEXT NOT NULL,
    conversation TEXT NOT NULL,
    tablet TEXT NOT NULL,
    language TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    UNIQUE (conversation, tablet)
)
"""


class SurveyError(CaptionerError):
    """An answer that cannot be stored (shown to the resident or admin); ``status`` for HTTP."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text (no formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class SurveyStore:
    """The answers database (opened lazily; one connection guarded by a lock)."""

    def __init__(self, path: Path, now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone()) -> None:
        self.path = Path(path)
        self.now = now
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # comments are personal: this user only
                os.chmod(self.path, 0o600)
                db = sqlite3.connect(self.path, check_same_thread=False, timeout=5)
                db.execute(SCHEMA)
                db.commit()
            except (OSError, sqlite3.Error) as e:
                raise SurveyError(f"アンケートの保存先 {self.path} を開けません: {e}", status=500) from e
            self._db = db
        return self._db

    def add(self, *, score: Any, comment: Any = "", counter: str = "", conversation: Any = "", tablet: Any = "",
            language: Any = "ja") -> dict[str, Any]:  # fmt: skip
        """Store one answer (a second answer from the same tablet for the same conversation replaces it)."""
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise SurveyError("満足度は 1 から 5 で選んでください")
        if comment is None:
            comment = ""
        if not isinstance(comment, str):
            raise SurveyError("コメントは文字で送ってください")
        comment = "".join(" " if c < " " and c not in "\n" else c for c in comment).strip()
        if len(comment) > MAX_COMMENT:
            raise SurveyError(f"コメントが長すぎます（{MAX_COMMENT} 文字まで）")
        conversation = str(conversation)[:40] if isinstance(conversation, (str, int)) else ""
        tablet = str(tablet)[:40] if isinstance(tablet, str) else ""
        language = language if isinstance(language, str) and len(language) <= 10 else "ja"
        now = self.now()
        row = (now.isoformat(timespec="seconds"), now.date().isoformat(), counter, conversation, tablet, language, score, comment)
        if not writable(row):
            raise SurveyError("保存できない文字が含まれています")
        with self._lock:
            db = self._connect()
            answered = db.execute(
                "SELECT COUNT(*), SUM(tablet = ?) FROM answers WHERE conversation = ?", (tablet, conversation)
            ).fetchone()
            if answered[0] >= TABLETS_PER_CONVERSATION and not answered[1]:
                raise SurveyError("この会話のアンケートは受付を終えました", status=429)
            try:
                db.execute(
                    "INSERT OR REPLACE INTO answers (at, day, counter, conversation, tablet, language, score, comment) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row,
                )  # fmt: skip
                db.commit()
            except sqlite3.Error as e:
                raise SurveyError(f"アンケートを保存できません: {e}", status=500) from e
        return {"stored": True, "day": row[1]}

    def summary(self, days: int = 31) -> dict[str, Any]:
        """Averages per day and per counter over the last ``days`` days (newest first)."""
        since = (self.now().date() - dt.timedelta(days=days - 1)).isoformat()
        with self._lock:
            db = self._connect()
            by_day = db.execute(
                "SELECT day, counter, COUNT(*), AVG(score) FROM answers WHERE day >= ? "
                "GROUP BY day, counter ORDER BY day DESC, counter", (since,),
            ).fetchall()  # fmt: skip
            by_counter = db.execute(
                "SELECT counter, COUNT(*), AVG(score) FROM answers WHERE day >= ? GROUP BY counter ORDER BY counter",
                (since,),
            ).fetchall()
            total = db.execute("SELECT COUNT(*), AVG(score) FROM answers WHERE day >= ?", (since,)).fetchone()
        return {
            "days": days,
            "answers": total[0],
            "average": round(total[1], 2) if total[1] is not None else None,
            "by_day": [{"day": d, "counter": c, "answers": n, "average": round(a, 2)} for d, c, n, a in by_day],
            "by_counter": [{"counter": c, "answers": n, "average": round(a, 2)} for c, n, a in by_counter],
        }

    def export_csv(self) -> bytes:
        """Every answer as CSV (UTF-8 with BOM, for Excel); cells are formula-safe."""
        with self._lock:
            rows = self._connect().execute(
                "SELECT at, counter, language, score, comment FROM answers ORDER BY at, id"
            ).fetchall()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["日時", "窓口", "言語", "満足度", "コメント"])
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
