"""``captioner bench-web``: what browser viewers cost the captioner, on loopback only.

The server runs in a child process (``python -m captioner.app.bench.web_bench serve``) exactly as in
``captioner run``: a feeder thread stands in for the pipeline and calls ``hub.sink`` at a
fixed rate, each caption carrying the time it was emitted. WebSocket clients in this process
measure the delivery latency (emission → received by the viewer) with 1 and with N viewers,
the server's CPU during each run (as % of one core, also with no viewer for the baseline),
and the server's memory before and after many connect/disconnect cycles.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

STAMP = re.compile(r"(\d{6,})")


# ------------------------------------------------------------------------------ server side


def serve() -> None:
    """The child: a real server; commands on stdin (push N RATE | quit), answers on stdout."""
    from captioner.core.events import CaptionEvent
    from dictionary.analyzer import shared_analyzer
    from web.hub import CaptionHub, furigana_ranges
    from web.options import WebOptions
    from web.server import WebServer

    hub = CaptionHub(10, furigana_ranges(shared_analyzer()))
    server = WebServer(WebOptions(port=0), hub)
    server.start()
    print(server.port, flush=True)

    pushed = [0]  # utterance ids keep growing across runs (a reused id would be a stale update)

    def push(count: int, rate: float) -> None:
        started = time.monotonic()
        first = pushed[0]
        pushed[0] += count // 5 + 1
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            uid, step = divmod(i, 5)
            uid += first
            text = f"住民票の写しを発行します{'。' * step}受付{time.monotonic_ns()}番"
            kind = "final" if step == 4 else "partial"
            hub.sink(CaptionEvent(kind, uid, text, uid * 5.0, uid * 5.0 + step, uid * 5.0 + step + 0.5, "住民票の"))

    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        if command[0] == "push":
            push(int(command[1]), float(command[2]))
            print("done", flush=True)
    server.stop()


# ------------------------------------------------------------------------------ client side


class _Child:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "captioner.app.bench.web_bench", "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.port = int(self.process.stdout.readline())

    def command(self, text: str) -> str:
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def close(self) -> None:
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(15)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


async def _viewer(url: str, ready: asyncio.Event, expected: int, latencies: list[float], done: asyncio.Event, timeout: float):
    import websockets

    async with websockets.connect(url) as socket:
        while json.loads(await socket.recv())["t"] != "live":
            pass
        ready.set()
        received = 0
        try:
            while received < expected:
                message = json.loads(await asyncio.wait_for(socket.recv(), timeout))
                now = time.monotonic_ns()
                if message["t"] == "cap":
                    stamp = STAMP.search(message["u"]["text"])
                    if stamp:
                        latencies.append((now - int(stamp.group(1))) / 1e6)
                        received += 1
        finally:
            done.set()


async def _run_phase(child: _Child, viewers: int, events: int, rate: float) -> dict:
    url = f"ws://127.0.0.1:{child.port}/ws"
    latencies: list[list[float]] = [[] for _ in range(viewers)]
    readies = [asyncio.Event() for _ in range(viewers)]
    dones = [asyncio.Event() for _ in range(viewers)]
    timeout = events / rate + 30
    tasks = [
        asyncio.ensure_future(_viewer(url, readies[i], events, latencies[i], dones[i], timeout)) for i in range(viewers)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    await asyncio.sleep(0.3)
    cpu0, wall0 = child.cpu_seconds(), time.monotonic()
    answer = await asyncio.get_running_loop().run_in_executor(None, child.command, f"push {events} {rate}")
    await asyncio.wait_for(asyncio.gather(*tasks), timeout)
    cpu1, wall1 = child.cpu_seconds(), time.monotonic()
    assert answer == "done", answer
    flat = sorted(x for per in latencies for x in per)
    return {
        "viewers": viewers,
        "delivered": len(flat),
        "expected": viewers * events,
        "latency_ms_p50": round(_percentile(flat, 50), 2) if flat else None,
        "latency_ms_p95": round(_percentile(flat, 95), 2) if flat else None,
        "latency_ms_max": round(flat[-1], 2) if flat else None,
        "server_cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 2),
    }


async def _cycles(child: _Child, count: int) -> None:
    import websockets

    url = f"ws://127.0.0.1:{child.port}/ws"
    for _ in range(count):
        async with websockets.connect(url) as socket:
            while json.loads(await asyncio.wait_for(socket.recv(), 10))["t"] != "live":
                pass


def _percentile(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def run_bench(viewers: int = 20, events: int = 200, rate: float = 10.0, cycles: int = 1000) -> dict:
    """Run every measurement against a fresh child server; returns the JSON-able result."""
    child = _Child()
    try:
        async def main() -> dict:
            # baseline: the same captions with nobody watching
            cpu0, wall0 = child.cpu_seconds(), time.monotonic()
            await asyncio.get_running_loop().run_in_executor(None, child.command, f"push {events} {rate}")
            idle_cpu = 100 * (child.cpu_seconds() - cpu0) / (time.monotonic() - wall0)
            one = await _run_phase(child, 1, events, rate)
            many = await _run_phase(child, viewers, events, rate)
            await _cycles(child, min(100, cycles))  # warm-up: allocator pools, caches
            rss_before = child.rss_mb()
            started = time.monotonic()
            await _cycles(child, cycles)
            seconds = time.monotonic() - started
            await asyncio.sleep(0.5)
            rss_after = child.rss_mb()
            return {
                "events": events,
                "rate_per_s": rate,
                "no_viewer_server_cpu_percent_of_one_core": round(idle_cpu, 2),
                "one_viewer": one,
                "many_viewers": many,
                "added_latency_ms_p95": round(many["latency_ms_p95"] - one["latency_ms_p95"], 2),
                "added_cpu_percent_of_one_core": round(many["server_cpu_percent_of_one_core"] - idle_cpu, 2),
                "connect_cycles": cycles,
                "connect_cycles_seconds": round(seconds, 1),
                "rss_mb_before_cycles": round(rss_before, 1),
                "rss_mb_after_cycles": round(rss_after, 1),
                "rss_mb_growth": round(rss_after - rss_before, 1),
                "targets": {"added_latency_ms_p95": 50, "added_cpu_percent_of_one_core": 5},
                "cpu_cores": os.cpu_count(),
            }

        return asyncio.run(main())
    finally:
        child.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        threading.current_thread().name = "bench-web-server"
        serve()
