#!/usr/bin/env python3
"""Probe the web server on loopback with issue 27's attacks and print what it got (JSON).

Starts, under ``ulimit -n 1024`` (soft and hard) with a viewer PIN, an admin password and the
conversation log on, either ``captioner run --input WAV --pace 1 --no-display`` (the file
played twice; a long CPU job: run it under the benchmark lock) or, without ``--input``, the web
server with a fed hub (a final caption a second, through the real conversation log), then,
while the captions play: a reply with a lone surrogate, a viewer after 終了, a
300 MB body (with and without Content-Length), 1,100 idle connections, survey stuffing, and 40
wrong logins from 10 addresses. Each probe reports what came back and whether captions reached
the clerk's screen and the conversation log went on growing around it.

Traffic goes to 127.0.0.x only, every probe is bounded in count and time (about 2 minutes
with the model's start). Usage: ``.venv/bin/python scripts/probe_web.py [--input FILE.wav]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from web.admin import hash_password

PIN = "482917"
PASSWORD = "probe-admin-password-27"
BIG = 300 * 1024 * 1024
CHUNK = 64 * 1024


class Server:
    """``captioner run`` (or a fed web server) in a subprocess with a low open-files limit, in a scratch folder."""

    def __init__(self, wav: Path | None, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.log_folder = folder / "log"
        if wav is None:
            command = [sys.executable, "-X", "faulthandler", __file__, "--serve-fed", str(folder), "--port", str(port)]
        else:
            played = folder / "input.wav"
            with wave.open(str(wav)) as src, wave.open(str(played), "wb") as out:
                out.setparams(src.getparams())
                frames = src.readframes(src.getnframes())
                out.writeframes(frames + frames)
            config = folder / "config.yaml"
            config.write_text(json.dumps({
                "display": {"enabled": False},
                "conversation_log": {"enabled": True, "folder": str(self.log_folder)},
                "web": {"enabled": True, "host": "127.0.0.1", "port": port, "viewer_pin": PIN,
                        "admin_password_hash": hash_password(PASSWORD)},
            }), encoding="utf-8")  # fmt: skip
            command = [sys.executable, "-X", "faulthandler", "-m", "captioner", "run", "--input", str(played), "--pace", "1", "--no-display", "--config", str(config)]
        env = {**os.environ, "XDG_DATA_HOME": str(folder / "data"), "XDG_CONFIG_HOME": str(folder / "config")}
        self.stderr_path = folder / "stderr.log"
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=self.stderr_path.open("wb"), env=env,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)),
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"captioner run stopped: {self.stderr_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.base}/info.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise SystemExit("captioner run did not answer in time")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def log_lines(self) -> int:
        return sum(len(f.read_bytes().splitlines()) for f in self.log_folder.glob("*.jsonl"))

    def stderr_bytes(self) -> int:
        return self.stderr_path.stat().st_size

    def survey_rows(self, conversation: str) -> int:
        database = self.folder / "data" / "captioner" / "survey.sqlite3"
        with sqlite3.connect(database) as db:
            return db.execute("SELECT COUNT(*) FROM answers WHERE conversation = ?", (conversation,)).fetchone()[0]

    def stop(self) -> int:
        """SIGINT; a server still running 20 s later gets SIGABRT (faulthandler writes every
        thread's stack into its log: the summary's ``first_traceback``), then SIGKILL."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)
            try:
                return self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()


class Monitor(threading.Thread):
    """The clerk's live log (this PC): the time of every caption message."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.url = f"ws://127.0.0.1:{server.port}/admin/clerk/ws"
        self.times: list[float] = []
        self.last_id = 0

    def run(self) -> None:
        try:
            with connect(self.url, open_timeout=10) as ws:
                for raw in ws:
                    message = json.loads(raw)
                    if message.get("t") == "cap":
                        self.times.append(time.monotonic())
                        self.last_id = max(self.last_id, message["u"]["id"])
        except ConnectionClosed:  # the server stops at the end
            return

    def since(self, start: float) -> int:
        return sum(1 for t in self.times if t >= start)


def token_of(server: Server, query: str, source: str = "127.0.0.1") -> str:
    """A tablet's token (from its hello; the WebSocket is closed at once, the token stays valid)."""
    ws, hello = viewer(server, query, source)
    ws.close()
    return hello["tablet"]["key"]


def viewer(server: Server, query: str, source: str = "127.0.0.1"):
    """(open socket or None, hello or the close code); read it, or close it (the client stops reading when its queue is full)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
    ws = connect(f"ws://127.0.0.1:{server.port}/ws?{query}", sock=sock, open_timeout=10)
    try:
        return ws, json.loads(ws.recv(timeout=10))
    except ConnectionClosed as e:
        return None, e.rcvd.code if e.rcvd else "closed"


def skip_to_live(ws) -> int:
    """Read the backlog until 'live'; the caption messages in it."""
    count = 0
    while (message := json.loads(ws.recv(timeout=10)))["t"] != "live":
        count += message["t"] == "cap"
    return count


def clerk(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=30)


def going(server: Server, monitor: Monitor, start: float, log_before: int) -> dict:
    """Whether captions reached the clerk and the log grew since ``start`` (waits up to 15 s)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (monitor.since(start) and server.log_lines() > log_before):
        time.sleep(0.25)
    return {"captions_since": monitor.since(start), "log_lines_added": server.log_lines() - log_before}


def probe(name: str, server: Server, monitor: Monitor, run) -> dict:
    start, log_before = time.monotonic(), server.log_lines()
    try:
        got = run()
    except Exception as e:  # a probe that breaks is reported, the others still run
        got = {"probe_failed": f"{type(e).__name__}: {e}"}
    result = {"probe": name, **got, "seconds": round(time.monotonic() - start, 1), **going(server, monitor, start, log_before)}
    print(json.dumps(result, ensure_ascii=False), file=sys.stderr, flush=True)
    return result


# ------------------------------------------------------------------------------ the probes


def surrogate_reply(server: Server, token: str) -> dict:
    body = b'{"text": "\\ud800\xe4\xbd\x8f\xe6\x89\x80\\u202e", "language": "ja"}'  # a lone surrogate, a bidi override
    answer = httpx.post(f"{server.base}/api/reply", content=body, timeout=30,
                        headers={"X-Viewer-Key": token, "Content-Type": "application/json"})  # fmt: skip
    return {"status": answer.status_code, "answer": answer.json()}


def after_end(server: Server, monitor: Monitor) -> dict:
    with clerk(server) as c:
        old_key = c.get("/admin/clerk/api/state").json()["viewer"].split("key=")[1]
        phone, hello = viewer(server, f"key={old_key}")
        skip_to_live(phone)
        last_before = monitor.last_id
        ended = c.post("/admin/clerk/api/end", json={}).json()
        phone_got = []
        try:
            while True:
                phone_got.append(json.loads(phone.recv(timeout=10))["t"])
        except ConnectionClosed as e:
            phone_got.append(e.rcvd.code if e.rcvd else "closed")
        new_key = c.get("/admin/clerk/api/state").json()["viewer"].split("key=")[1]
    _, with_token = viewer(server, f"key={hello['tablet']['key']}")
    _, with_old_key = viewer(server, f"key={old_key}")
    fresh, fresh_hello = viewer(server, f"key={new_key}")
    backlog = skip_to_live(fresh)
    fresh.close()
    return {
        "ended": ended["conversation"], "phone_got": phone_got, "phone_token_again": with_token,
        "old_qr_key": with_old_key, "new_key_differs": new_key != old_key, "new_viewer": fresh_hello["t"],
        "new_viewer_backlog_captions": backlog, "last_caption_before_end": last_before,
    }  # fmt: skip


def big_body(server: Server, token: str, declared: bool) -> dict:
    """POST up to 300 MB to /api/reply (declared length, or chunked): what came back and the server's RSS."""
    rss_before, peak, stop = server.rss_mb(), [server.rss_mb()], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=("127.0.0.5", 0))
    length = f"Content-Length: {BIG}" if declared else "Transfer-Encoding: chunked"
    sock.sendall(f"POST /api/reply HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
                 f"X-Viewer-Key: {token}\r\n{length}\r\n\r\n".encode())  # fmt: skip
    sent, answer, deadline = 0, b"", time.monotonic() + 20
    sock.setblocking(False)
    chunk = b"x" * CHUNK if declared else f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
    try:
        while sent < BIG and time.monotonic() < deadline and not answer:
            try:
                answer = sock.recv(4096)
            except BlockingIOError:
                pass
            try:
                sent += sock.send(chunk) if not answer else 0
            except BlockingIOError:
                time.sleep(0.001)
    except OSError as e:
        answer = answer or f"({e.strerror})".encode()
    sock.setblocking(True)
    sock.settimeout(5)
    try:
        answer += sock.recv(4096) if b"\r\n\r\n" not in answer else b""
    except OSError:
        pass
    sock.close()
    time.sleep(0.3)
    stop.set()
    sampler.join()
    return {"declared_length": declared, "answer": answer.split(b"\r\n")[0].decode(errors="replace"),
            "mb_sent": round(sent / 2**20, 1), "rss_mb_before": rss_before, "rss_mb_peak": peak[0]}  # fmt: skip


def idle_connections(server: Server, count: int = 1100) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 200)), hard))  # this probe's own limit
    stderr_before, opened, failed = server.stderr_bytes(), [], 0
    for _ in range(count):
        try:
            opened.append(socket.create_connection(("127.0.0.1", server.port), timeout=2, source_address=("127.0.0.2", 0)))
        except OSError:
            failed += 1
    start = time.monotonic()
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3"), timeout=10)
    answer = other.get(f"{server.base}/info.json")
    other_s = round(time.monotonic() - start, 3)
    time.sleep(1)
    open_after_1s = sum(_still_open(s) for s in opened)
    time.sleep(10.5)
    open_after_12s = sum(_still_open(s) for s in opened)
    for s in opened:
        s.close()
    with server.stderr_path.open("rb") as log:
        log.seek(stderr_before)
        logged = log.read().decode(errors="replace")
    return {"connections": count, "connect_failed": failed, "other_client_status": answer.status_code, "other_client_s": other_s,
            "held_open_after_1s": open_after_1s, "held_open_after_12s": open_after_12s,
            "server_log_bytes": len(logged.encode()), "server_log_lines": logged.count("\n"),
            "server_log_tracebacks": logged.count("Traceback"), "out_of_open_files_lines": logged.count("out of open files")}  # fmt: skip


def _still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def survey_stuffing(server: Server, conversation: str, posts: int = 200) -> dict:
    tokens = [token_of(server, f"pin={PIN}", source="127.0.0.4") for _ in range(10)]  # ten counter tablets, one address
    statuses: dict[int, int] = {}
    client = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.4"), base_url=server.base, timeout=10)
    deadline = time.monotonic() + 10
    for n in range(posts):
        if time.monotonic() > deadline:
            break
        token = tokens[n % len(tokens)]
        status = client.post("/api/survey", headers={"X-Viewer-Key": token},
                             json={"conversation": conversation, "score": 1, "tablet": f"forged-{n}"}).status_code  # fmt: skip
        statuses[status] = statuses.get(status, 0) + 1
    return {"posts": sum(statuses.values()), "statuses": statuses, "rows_stored": server.survey_rows(conversation)}


def logins(server: Server) -> dict:
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def guess(address: str) -> None:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=address), base_url=server.base, timeout=90) as c:
            for n in range(4):
                status = c.post("/admin/api/login", json={"password": f"guess-{address}-{n}"}).status_code
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=guess, args=(f"127.0.0.{10 + i}",)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return {"logins": sum(statuses.values()), "addresses": 10, "statuses": statuses}


def serve_fed(folder: Path, port: int) -> None:
    """The web server with a hub fed one final caption a second through the real conversation log (until SIGINT)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started from a background job (SIGINT ignored)
    from captioner.convlog.log import ConversationLog, ConversationLogOptions
    from captioner.core.events import CaptionEvent, UtteranceIds
    from web.gate import AdminContext
    from web.hub import CaptionHub
    from web.options import WebOptions
    from web.server import WebServer

    hub, ids = CaptionHub(), UtteranceIds()
    conversation_log = ConversationLog(ConversationLogOptions(enabled=True, folder=str(folder / "log")))

    def publish(event: CaptionEvent) -> None:
        conversation_log(event)
        hub.sink(event)

    password = hash_password(PASSWORD)
    options = WebOptions(host="127.0.0.1", port=port, viewer_pin=PIN, admin_password_hash=password)
    admin = AdminContext(password, os.urandom(32), None)
    with WebServer(options, hub, admin=admin, publish=publish, ids=ids):
        try:
            for n in range(1, 100_000):
                at = float(n)
                uid = next(ids)
                publish(CaptionEvent("final", uid, f"窓口の字幕、{n} 番目です。", at, at + 0.8, 0.0, committed=f"窓口の字幕、{n} 番目です。"))
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="a WAV file for `captioner run` (played twice at real time); default: a fed hub")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument("--serve-fed", type=Path, metavar="FOLDER", help=argparse.SUPPRESS)  # the fed server itself
    args = parser.parse_args()
    if args.serve_fed:
        serve_fed(args.serve_fed, args.port)
        return 0
    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="probe-web-") as tmp:
        server = Server(args.input, Path(tmp), port)
        try:
            server.wait_ready()
            monitor = Monitor(server)
            monitor.start()
            deadline = time.monotonic() + 60
            while not monitor.times and time.monotonic() < deadline:
                time.sleep(0.2)
            token = token_of(server, f"pin={PIN}")  # the counter's tablet: its token posts
            results = [probe("surrogate_reply", server, monitor, lambda: surrogate_reply(server, token))]
            results.append(probe("viewer_after_end", server, monitor, lambda: after_end(server, monitor)))
            ended = results[-1].get("ended", "")
            for declared in (True, False):
                results.append(probe("body_300mb", server, monitor, lambda d=declared: big_body(server, token, d)))
            results.append(probe("idle_connections_ulimit_1024", server, monitor, lambda: idle_connections(server)))
            results.append(probe("survey_stuffing", server, monitor, lambda: survey_stuffing(server, ended)))
            results.append(probe("logins_40_from_10_addresses", server, monitor, lambda: logins(server)))
            alive = server.process.poll() is None
        finally:
            code = server.stop()
        logged = server.stderr_path.read_text(errors="replace")
        tracebacks = logged.count("Traceback")
        tracebacks += logged.count("Fatal Python error")  # the faulthandler dump of a server that did not stop
        first = min((i for i in (logged.find("Traceback"), logged.find("Fatal Python error")) if i >= 0), default=-1)
        first_traceback = logged[max(0, first - 300) :][:6000] if first >= 0 else None
    print(json.dumps({"server": f"captioner run --input {args.input.name} --pace 1" if args.input else "web server with a fed hub",
                      "server_alive_at_end": alive, "server_exit": code, "tracebacks_in_server_log": tracebacks,
                      "first_traceback": first_traceback,
                      "captions_total": len(monitor.times), "probes": results}, ensure_ascii=False, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
