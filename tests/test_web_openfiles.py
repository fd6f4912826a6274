"""Out of open files (web/openfiles.py): the soft limit raised at start, and asyncio's accept
errors as one short line instead of a traceback per failed accept — each in a subprocess with a
lowered limit, the errors made for real by more clients than the process has descriptors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import httpx
import pytest

pytest.importorskip("resource")  # POSIX only: Windows has no such limit

LOW = 48  # open files in the child: enough for Python and a server, fewer than the clients
CLIENTS = 120

ASYNCIO_SERVER = textwrap.dedent("""
    import asyncio, logging, resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, ({low}, {low}))
    logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    from web.openfiles import quiet_accept_errors
    if {filtered}:
        quiet_accept_errors()

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # the clients connected and waited
        loop.call_soon(lambda: 1 / 0)  # another asyncio error: it must pass unchanged
        server.close()
        await asyncio.sleep(1.5)  # the retries asyncio scheduled per failed accept fire on the closed socket
        print("done", flush=True)

    asyncio.run(main())
""")


def run_flooded(tmp_path, script: str, hold_s: float, after=None) -> str:
    """Run ``script`` (prints its port first), connect :data:`CLIENTS` idle clients, hold them
    ``hold_s`` (asyncio retries a failed accept after 1 s), let it go on; its stderr."""
    stderr = tmp_path / "stderr.log"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    with stderr.open("wb") as err:
        child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                 text=True, env=env)  # fmt: skip
        try:
            port = int(child.stdout.readline().split()[0])
            clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(CLIENTS)]
            time.sleep(hold_s)
            for client in clients:
                client.close()
            if after is not None:
                after(port)
            child.communicate("go\n", timeout=60)
        finally:
            child.kill()
    assert child.returncode == 0, stderr.read_text(errors="replace")[-3000:]
    return stderr.read_text(errors="replace")


def test_asyncios_accept_errors_become_one_line_and_other_errors_pass(tmp_path):
    unfiltered = run_flooded(tmp_path, ASYNCIO_SERVER.format(low=LOW, filtered=False), hold_s=2.5)
    assert unfiltered.count("socket.accept() out of system resource") > 1  # the real records, a traceback each
    assert unfiltered.count("Traceback") > 2

    text = run_flooded(tmp_path, ASYNCIO_SERVER.format(low=LOW, filtered=True), hold_s=2.5)
    lines = [line for line in text.splitlines() if "out of open files" in line]
    assert len(lines) == 1, text[-3000:]
    assert lines[0] == "WARNING asyncio: web server out of open files (Too many open files): 1 accept(s) failed; said at most every 30 s"
    assert "socket.accept() out of system resource" not in text and "_start_serving" not in text
    assert text.count("Traceback") == 1 and "ZeroDivisionError" in text  # the other error, with its traceback
    assert "Exception in callback" in text


def test_the_filter_says_the_first_at_once_and_the_count_of_the_rest_when_the_time_is_up(caplog):
    import errno
    import logging

    from web.openfiles import ACCEPT_ERROR, AcceptErrors

    accept_errors = AcceptErrors(every=0.3, logger="test.asyncio")

    def record(error: BaseException) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, "selector_events.py", 1, f"{ACCEPT_ERROR}\nsocket: <fd=3>", (),
                                 (type(error), error, None))  # fmt: skip

    def said() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "test.asyncio"]

    full = OSError(errno.EMFILE, "Too many open files")
    assert not any(accept_errors.filter(record(full)) for _ in range(42))
    assert said() == ["web server out of open files (Too many open files): 1 accept(s) failed; said at most every 0.3 s"]
    deadline = time.monotonic() + 10
    while len(said()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert said()[1].startswith("web server out of open files (Too many open files): 41 accept(s) failed")
    other = record(OSError(errno.ECONNRESET, "reset"))  # not for lack of files: unchanged
    assert accept_errors.filter(other) and other.exc_info is not None and other.msg.startswith(ACCEPT_ERROR)
    assert len(said()) == 2


WEB_SERVER = textwrap.dedent("""
    import logging, resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
    logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    from web.hub import CaptionHub
    from web.openfiles import AcceptErrors
    from web.options import WebOptions
    from web.server import WebServer

    server = WebServer(WebOptions(port=0), CaptionHub())
    server.start()
    print(server.port, resource.getrlimit(resource.RLIMIT_NOFILE)[0],
          sum(isinstance(f, AcceptErrors) for f in logging.getLogger("asyncio").filters), flush=True)
    sys.stdin.readline()
    server.stop()
""")


def start_web_server(tmp_path, soft: int, hard: int) -> tuple[list[int], str]:
    """The web server started under (soft, hard): [port, soft limit now, accept filters]; its stderr."""
    child = subprocess.run([sys.executable, "-c", WEB_SERVER.format(soft=soft, hard=hard)], input="\n", capture_output=True,
                           text=True, timeout=120, env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})  # fmt: skip
    assert child.returncode == 0, child.stderr
    return [int(x) for x in child.stdout.split()], child.stderr


def test_the_web_server_raises_a_low_soft_limit_silently_and_installs_the_filter(tmp_path):
    (_, soft, filters), stderr = start_web_server(tmp_path, 256, 4096)
    assert soft == 4096 and filters == 1 and stderr == ""
    (_, soft, filters), stderr = start_web_server(tmp_path, 1024, 1024)  # the hard limit is the ceiling: as the probe runs
    assert soft == 1024 and filters == 1 and stderr == ""


def test_the_web_server_out_of_files_logs_one_line_and_still_answers(tmp_path):
    answers = []
    text = run_flooded(tmp_path, WEB_SERVER.format(soft=LOW, hard=LOW), hold_s=2.5,
                       after=lambda port: answers.append(httpx.get(f"http://127.0.0.1:{port}/info.json", timeout=30).status_code))  # fmt: skip
    assert answers == [200]
    assert "Traceback" not in text and "socket.accept() out of system resource" not in text
    assert len([line for line in text.splitlines() if "out of open files" in line]) == 1, text[-3000:]
