"""The conversation log: masking, one durable JSON Lines file per day, retention, export, bad folders.

Unwritable folders and a full disk are real where the tests may mount (a read-only or a
64 KiB tmpfs, as root); elsewhere a chmod-ed folder and a write that fails with ENOSPC.
The power cut is a child process killed with SIGKILL while it writes.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from captioner.app.config import Config
from captioner.convlog import log as convlog
from captioner.convlog.log import (
    CLOCK_JUMPED,
    LOG_UNWRITABLE,
    ConversationLog,
    ConversationLogOptions,
    read_records,
)
from captioner.convlog.masking import ScreenMasking, mask
from captioner.core.events import CaptionEvent

REPO = Path(__file__).resolve().parents[1]
TZ = dt.timezone(dt.timedelta(hours=9))


# --- masking on what is said at a counter ------------------------------------------------

MASKED = [
    ("マイナンバーは1234 5678 9012です。", "マイナンバーは[個人番号]です。"),
    ("個人番号は１２３４－５６７８－９０１２になります。", "個人番号は[個人番号]になります。"),
    ("マイナンバーカードの番号、一二三四五六七八九〇一二ですね。", "マイナンバーカードの番号、[個人番号]ですね。"),
    ("ご連絡先のお電話番号は090-1234-5678でよろしいですか。", "ご連絡先のお電話番号は[電話番号]でよろしいですか。"),
    ("自宅の電話は0835ー22ー4111です。", "自宅の電話は[電話番号]です。"),
    ("携帯は09012345678です。", "携帯は[電話番号]です。"),
    ("えっと、080の1234の5678です。", "えっと、[電話番号]です。"),
    ("〒747-8501、防府市寿町7番1号にお住まいですね。", "[郵便番号]、防府市寿町7番1号にお住まいですね。"),
    ("郵便番号は7478501です。", "郵便番号は[郵便番号]です。"),
    ("振込先の口座番号は1234567です。", "振込先の口座番号は[口座番号]です。"),
    ("山口銀行の普通口座で、1234567になります。", "山口銀行の普通口座で、[口座番号]になります。"),
    ("生年月日は1985年4月12日です。", "生年月日は[生年月日]です。"),
    ("昭和60年4月12日生まれです。", "[生年月日]生まれです。"),
    ("生年月日は19850412ですね。", "生年月日は[生年月日]ですね。"),
    ("保険証の記号番号は12345678です。", "保険証の記号番号は[番号]です。"),
]

KEPT = [
    "住民票の写しは1通300円です。",
    "3番の窓口でお待ちください。",
    "11月30日までに申請してください。",
    "2026年12月1日から受け付けます。",
    "平成30年度の所得証明書が必要です。",
    "控除額は10,000,000円までです。",
    "午後2時から4時まで開いています。",
    "防府市役所の1階です。",
]


@pytest.mark.parametrize(("said", "logged"), MASKED)
def test_personal_numbers_are_masked(said, logged):
    assert mask(said).text == logged


@pytest.mark.parametrize("said", KEPT)
def test_ordinary_numbers_are_kept(said):
    assert mask(said).text == said


def test_a_date_answering_a_birth_date_question_is_masked():
    assert mask("昭和60年4月12日です。", context="生年月日を教えてください。").text == "[生年月日]です。"
    assert mask("昭和60年4月12日です。", context="申請日はいつですか。").text == "昭和60年4月12日です。"


# --- the log file ------------------------------------------------------------------------


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.wall = start
        self.mono = 1000.0

    def now(self) -> dt.datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float, wall_extra: float = 0.0) -> None:
        self.mono += seconds
        self.wall += dt.timedelta(seconds=seconds + wall_extra)


def final(uid: int, text: str, **changes) -> CaptionEvent:
    return CaptionEvent("final", uid, text, uid * 5.0, uid * 5.0 + 3.0, uid * 5.0 + 3.5, committed=text, **changes)


def new_log(folder: Path, clock: Clock | None = None, statuses: list | None = None, **options) -> ConversationLog:
    clock = clock or Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    return ConversationLog(
        ConversationLogOptions(enabled=True, folder=str(folder), **options),
        on_status=None if statuses is None else statuses.append,
        now=clock.now, monotonic=clock.monotonic,
    )  # fmt: skip


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_finals_are_masked_and_written_one_line_each_with_translations_merged_on_export(tmp_path):
    clock = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    log = new_log(tmp_path / "logs", clock)
    log(CaptionEvent("partial", 1, "お電話番号は090", 5.0, 6.0, 6.2))
    log(final(1, "お電話番号は090-1234-5678です。"))
    log(final(2, "ありがとうございます。", corrected_text="ありがとうございます！"))
    translated = final(1, "お電話番号は090-1234-5678です。", translations={"en": "Phone: 090-1234-5678."},
                       details={"translation": {"en": {"model": "tiny", "seconds": 0.1}}}, update="translation")  # fmt: skip
    log(translated)
    log(final(3, ""))  # nothing said: nothing written
    path = tmp_path / "logs" / "2026-11-23.jsonl"
    records = lines(path)
    assert [r.get("text") for r in records] == ["お電話番号は[電話番号]です。", "ありがとうございます！", None]
    assert records[0]["masked"] == ["phone"] and records[0]["time"] == "2026-11-23T09:00:00+09:00"
    assert records[2]["translations"] == {"en": "Phone: [電話番号]."}
    assert "1234-5678" not in path.read_text(encoding="utf-8")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    merged = list(read_records(tmp_path / "logs", dt.date(2026, 11, 23), dt.date(2026, 11, 23)))
    assert [r["utterance"] for r in merged] == [1, 2]
    assert merged[0]["translations"] == {"en": "Phone: [電話番号]."}


def test_each_day_gets_its_own_file(tmp_path):
    clock = Clock(dt.datetime(2026, 11, 23, 23, 59, 59, tzinfo=TZ))
    log = new_log(tmp_path, clock)
    log(final(1, "こんばんは。"))
    clock.advance(2)
    log(final(2, "おはようございます。"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-23.jsonl", "2026-11-24.jsonl"]


def make_day_files(folder: Path, today: dt.date, ages: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for age in ages:
        (folder / f"{today - dt.timedelta(days=age)}.jsonl").write_text('{"x": 1}\n', encoding="utf-8")


def test_retention_deletes_old_files_at_start_and_daily(tmp_path):
    today = dt.date(2026, 11, 23)
    make_day_files(tmp_path, today, [60, 31, 30, 1])
    (tmp_path / "notes.txt").write_text("not a log file", encoding="utf-8")
    clock = Clock(dt.datetime(2026, 11, 23, 8, 30, tzinfo=TZ))
    log = new_log(tmp_path, clock, retention_days=30)
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == ["2026-10-24.jsonl", "2026-11-22.jsonl", "notes.txt"]
    clock.advance(24 * 3600)  # the PC stays on overnight: the first caption of the day purges
    log(final(1, "おはようございます。"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-22.jsonl", "2026-11-24.jsonl", "notes.txt"]


def test_retention_zero_keeps_everything(tmp_path):
    make_day_files(tmp_path, dt.date(2026, 11, 23), [400, 1])
    new_log(tmp_path, retention_days=0)
    assert len(list(tmp_path.iterdir())) == 2


def test_a_clock_jump_is_reported_and_stops_deletions(tmp_path):
    statuses: list = []
    clock = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    make_day_files(tmp_path, dt.date(2026, 11, 23), [10])
    log = new_log(tmp_path, clock, statuses, retention_days=30)
    log(final(1, "はい。"))
    clock.advance(5, wall_extra=365 * 86400)  # the clock jumps a year ahead (bad NTP, BIOS battery)
    log(final(2, "いいえ。"))
    assert statuses == [CLOCK_JUMPED.format(minutes=365 * 86400 / 60)]
    assert (tmp_path / "2026-11-13.jsonl").exists()  # nothing deleted on an untrusted date
    assert lines(tmp_path / "2027-11-23.jsonl")[0]["text"] == "いいえ。"  # nothing lost either


def test_files_from_the_future_mean_the_clock_went_back_and_nothing_is_deleted(tmp_path):
    make_day_files(tmp_path, dt.date(2026, 11, 23), [-3, 90])
    new_log(tmp_path, retention_days=30)
    assert len(list(tmp_path.iterdir())) == 2


# --- bad folders: captions continue, nothing is lost -----------------------------------


@contextmanager
def tmpfs(path: Path, options: str):
    """Mount a tmpfs at ``path`` (root only); yields False where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def test_read_only_folder_shows_a_status_keeps_captions_and_writes_them_later(tmp_path):
    folder = tmp_path / "ro"
    statuses: list = []
    with tmpfs(folder, "size=1m,ro") as mounted:
        if not mounted:
            if os.geteuid() == 0:
                pytest.skip("cannot mount a read-only tmpfs here, and chmod does not stop root")
            folder.chmod(0o500)
        log = new_log(folder / "logs", statuses=statuses)
        for uid in range(1, 4):
            log(final(uid, f"{uid}番目の発言です。"))  # never raises
        assert len(statuses) == 1 and statuses[0].startswith("会話ログを保存できません")  # one status, not one per caption
        assert log.written == 0
        if mounted:
            subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
        else:
            folder.chmod(0o700)
        log(final(4, "4番目の発言です。"))
        assert statuses[-1] is None
        assert [r["utterance"] for r in lines(folder / "logs" / "2026-11-23.jsonl")] == [1, 2, 3, 4]


def test_a_folder_that_is_a_file_is_a_clear_status(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    statuses: list = []
    log = new_log(tmp_path / "file" / "logs", statuses=statuses)
    log(final(1, "こんにちは。"))
    assert statuses and statuses[0].startswith("会話ログを保存できません")


def test_full_disk_keeps_captions_in_memory_and_loses_none(tmp_path, monkeypatch):
    folder = tmp_path / "tiny"
    statuses: list = []
    with tmpfs(folder, "size=64k") as mounted:
        filler = folder / "filler.bin"
        if mounted:  # fill the real disk to the last block
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
            try:
                while True:
                    os.write(fd, b"\0" * 1024)
            except OSError as e:
                assert e.errno == errno.ENOSPC
            finally:
                os.close(fd)
        else:
            real_write = os.write

            def full(fd, data):
                if filler.exists():
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real_write(fd, data)

            filler.write_bytes(b"")
            monkeypatch.setattr(convlog.os, "write", full)
        log = new_log(folder, statuses=statuses)
        long_text = "住民票の写しを二通お願いします。" * 20
        for uid in range(1, 31):
            log(final(uid, f"{uid}: {long_text}"))
        assert statuses[0] == LOG_UNWRITABLE.format(reason="ディスクがいっぱいです (disk full)")
        filler.unlink()  # the supervisor frees space
        assert log.flush()
        assert statuses[-1] is None
        path = folder / "2026-11-23.jsonl"
        parsed = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                parsed.append(json.loads(line)["utterance"])
            except ValueError:
                pass  # the record cut off when the disk filled up (written again in full)
        assert sorted(set(parsed)) == list(range(1, 31))
        assert [r["utterance"] for r in read_records(folder, dt.date(2026, 11, 23), dt.date(2026, 11, 23))] == parsed


CHILD = r"""
import sys, datetime as dt
from captioner.convlog.log import ConversationLog, ConversationLogOptions
from captioner.core.events import CaptionEvent
log = ConversationLog(ConversationLogOptions(enabled=True, folder=sys.argv[1]))
for uid in range(1, 1_000_000):
    text = f"{uid}番目: 住民票の写しを二通お願いします。電話は090-1234-5678です。" * 3
    log(CaptionEvent("final", uid, text, 0.0, 1.0, 1.2, committed=text))
    print(uid, flush=True)
"""


def test_power_cut_while_writing_leaves_a_readable_log(tmp_path):
    """SIGKILL in the middle of writing: every caption reported as written is in the file."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    confirmed = 0
    for line in child.stdout:
        confirmed = int(line)
        if confirmed >= 300:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    (path,) = tmp_path.glob("*.jsonl")
    raw = path.read_text(encoding="utf-8").split("\n")
    complete = [json.loads(line) for line in raw[:-1]]  # every line but a possibly cut last one parses
    assert [r["utterance"] for r in complete] == list(range(1, len(complete) + 1))
    assert len(complete) >= confirmed  # at most the caption being written is lost
    assert "090-1234" not in path.read_text(encoding="utf-8")


# --- export and the pipeline ---------------------------------------------------------------


def test_log_export_command(tmp_path):
    for day, hour in (("2026-11-01", 9), ("2026-11-20", 10), ("2026-11-23", 11)):
        clock = Clock(dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+09:00"))
        log = new_log(tmp_path / "logs", clock, retention_days=0)
        log(final(1, f"{hour}時の相談です。"))
    (tmp_path / "logs" / "2026-11-20.jsonl").open("a", encoding="utf-8").write('{"session": "x", "utter')  # cut off
    out = tmp_path / "export.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "captioner", "log", "export", "--from", "2026-11-01", "--to", "2026-11-20",
         "--folder", str(tmp_path / "logs"), "--output", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [r["text"] for r in lines(out)] == ["9時の相談です。", "10時の相談です。"]
    assert "2 captions" in result.stderr and "not a complete record" in result.stderr
    bad = subprocess.run([sys.executable, "-m", "captioner", "log", "export", "--from", "2026-11-31"],
                         capture_output=True, text=True, cwd=REPO, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_masking_on_screen_masks_partials_finals_and_translations():
    stage = ScreenMasking()
    seen = [
        stage(CaptionEvent("partial", 1, "電話は090-1234-5678で", 0, 1, 1.1, committed="電話は")),
        stage(final(1, "電話は090-1234-5678です。", translations={"en": "The phone is 090-1234-5678."})),
    ]
    assert [e.display_text for e in seen] == ["電話は[電話番号]で", "電話は[電話番号]です。"]
    assert seen[0].display_committed == "電話は"
    assert seen[1].translations == {"en": "The phone is [電話番号]."}


def test_the_session_writes_the_log_when_enabled(tmp_path, monkeypatch):
    from captioner.app.session import CaptionSession
    from captioner.engine.audio import FileSource
    from tests.conftest import EVAL_DIR
    from tests.test_recovery import FakeRecognizer

    config = Config()
    config.dictionary.enabled = False
    config.conversation_log.enabled = True
    config.conversation_log.folder = str(tmp_path)
    config.conversation_log.mask_on_screen = True
    shown: list[CaptionEvent] = []
    source = FileSource(EVAL_DIR / "d01.wav", pace=None)
    with CaptionSession(config, FakeRecognizer(), [shown.append], conversation_log=True) as session:
        session.run(source, partials=False, backpressure=True)
    (path,) = tmp_path.glob("*.jsonl")
    assert [r["text"] for r in lines(path)] == [e.display_text for e in shown if e.is_final]


def test_a_caption_that_cannot_be_encoded_is_reported_and_skipped_never_blocking_the_next(tmp_path):
    """Issue 27: one record with a lone surrogate stayed at the head of the backlog and every
    later caption failed to be written until a restart."""
    statuses = []
    log = ConversationLog(ConversationLogOptions(enabled=True, folder=str(tmp_path)), on_status=statuses.append)
    log(CaptionEvent("final", 1, "はい\ud800", 0, 1, 1, committed="はい\ud800", source="resident"))
    log(CaptionEvent("final", 2, "次の方どうぞ", 1, 2, 2, committed="次の方どうぞ"))
    log(CaptionEvent("final", 2, "次の方どうぞ", 1, 2, 2, committed="次の方どうぞ", translations={"en": "Next\udfff"}, update="translation"))
    log(CaptionEvent("final", 3, "こちらです", 2, 3, 3, committed="こちらです"))
    today = dt.date.today()
    records = list(read_records(tmp_path, today - dt.timedelta(days=1), today + dt.timedelta(days=1)))
    assert [r["text"] for r in records] == ["次の方どうぞ", "こちらです"]
    assert log.skipped == 2 and log.written == 2
    assert statuses and "2 件飛ばしました" in statuses[-1]


@pytest.mark.parametrize(("typed", "logged"), [
    ("電話は090 - 1234 - 5678です", "電話は[電話番号]です"),
    ("090/1234/5678 にお願いします", "[電話番号] にお願いします"),
    ("自宅は0835 / 22 / 4111", "自宅は[電話番号]"),
])  # fmt: skip
def test_phone_numbers_as_residents_type_them_are_masked(typed, logged):
    """Issue 27 (Low): a reply typed as 090 - 1234 - 5678 or 090/1234/5678 reached the log as it was."""
    assert mask(typed).text == logged
    assert mask("受付は2026/12/15までです").text == "受付は2026/12/15までです"  # a typed date is no phone number
