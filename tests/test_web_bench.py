"""``captioner bench-web`` on a small scale: every caption reaches every viewer, memory stays flat."""

from __future__ import annotations

import json

from captioner.app.cli import main


def test_bench_web_small(capsys):
    assert main(["bench-web", "--viewers", "3", "--events", "20", "--rate", "40", "--cycles", "60"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["many_viewers"]["delivered"] == result["many_viewers"]["expected"] == 60
    assert result["one_viewer"]["delivered"] == 20
    assert result["many_viewers"]["latency_ms_p95"] < 500
    assert abs(result["rss_mb_growth"]) < 20
    assert 0 <= result["no_viewer_server_cpu_percent_of_one_core"] < 100


def test_bench_web_conversation_small(capsys):
    assert main(["bench-web", "--conversation", "--viewers", "3", "--replies", "10", "--rate", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["reply_to_clerk_socket"]["count"] == 10  # every reply reached the clerk
    assert result["reply_to_every_viewer"]["count"] == 30  # and every tablet
    assert result["reply_to_clerk_socket"]["p95_ms"] < 500 and "reply_to_clerk_screen" not in result
