"""`captioner check` as staff run it in the morning: real subprocesses, a real (virtual) microphone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EVAL_DIR

REPO = Path(__file__).resolve().parents[1]


def check(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "captioner", "check", *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})},
    )  # fmt: skip


def lines_of(stdout: str) -> dict[str, tuple[str, str]]:
    """part → (status, detail)"""
    parts = {}
    for line in stdout.splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[0] in ("OK", "NG", "WARN", "--"):
            parts[fields[1]] = (fields[0], fields[2])
    return parts


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def no_pulse_env(tmp_path: Path) -> dict:
    """No sound server to reach: like a PC whose microphone is not plugged in."""
    return {"PULSE_RUNTIME_PATH": str(tmp_path / "no-pulse"), "PULSE_SERVER": "unix:" + str(tmp_path / "none")}


@pytest.mark.model
def test_everything_is_reported_and_a_missing_microphone_is_ng(tmp_path):
    words = tmp_path / "words"
    words.mkdir()
    (words / "words.yaml").write_text("- surface: 防府市\n  reading: ほうふし\n", encoding="utf-8")
    config = write_config(tmp_path, f"dictionary:\n  folder: {words}\ndisplay:\n  enabled: false\n")
    result = check("--config", config, env=no_pulse_env(tmp_path))
    parts = lines_of(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert parts["config"] == ("OK", config)
    assert parts["dictionary"][0] == "OK" and "1 words in 1 files" in parts["dictionary"][1]
    assert parts["model"][0] == "OK" and "SHA-256 verified" in parts["model"][1]
    assert parts["microphone"][0] == "NG" and "マイクが見つかりません" in parts["microphone"][1]
    assert parts["font"][0] == "OK"
    assert parts["display"][0] == "--" and parts["translation"][0] == "--" and parts["log"][0] == "--"
    assert "NG 準備ができていません (not ready): microphone" in result.stdout


def test_bad_config_and_dictionary_problems_name_file_and_line(tmp_path):
    words = tmp_path / "words"
    words.mkdir()
    (words / "words.yaml").write_text("- surface: 防府市\n  reading: ほうふし\n- surface: 周南市\n", encoding="utf-8")
    bad = write_config(tmp_path, "audio:\n  devise: USB\n")
    result = check("--config", bad, "--skip", "model", "--skip", "microphone", env=no_pulse_env(tmp_path))
    parts = lines_of(result.stdout)
    assert result.returncode == 1
    assert parts["config"][0] == "NG" and f"{bad}:2: unknown key 'audio.devise'" in parts["config"][1]
    assert parts["model"] == ("--", "skipped (--skip)")  # the other parts are still checked
    config = write_config(tmp_path, f"dictionary:\n  folder: {words}\n")
    parts = lines_of(check("--config", config, "--skip", "model", "--skip", "microphone").stdout)
    assert parts["dictionary"][0] == "NG" and "words.yaml:3" in parts["dictionary"][1]


def test_unwritable_log_folder_and_missing_translation_packages_are_ng(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    config = write_config(
        tmp_path,
        f"conversation_log:\n  enabled: true\n  folder: {tmp_path / 'file' / 'logs'}\n"
        f"translate:\n  languages: [vi]\n  packages_dir: {tmp_path / 'packages'}\n  argos_packages: false\n",
    )
    result = check("--config", config, "--skip", "model", "--skip", "microphone", "--skip", "display")
    parts = lines_of(result.stdout)
    assert result.returncode == 1
    assert parts["log"][0] == "NG" and "cannot write" in parts["log"][1]
    assert parts["translation"][0] == "NG" and "vi" in parts["translation"][1]
    config = write_config(tmp_path, f"conversation_log:\n  enabled: true\n  folder: {tmp_path / 'logs'}\n")
    parts = lines_of(check("--config", config, "--skip", "model", "--skip", "microphone", "--skip", "display").stdout)
    assert parts["log"][0] == "OK" and "writable" in parts["log"][1]


def test_headless_display_is_ng(tmp_path):
    result = check("--skip", "model", "--skip", "microphone", env={"SDL_VIDEODRIVER": "dummy"})
    assert lines_of(result.stdout)["display"][0] == "NG"


@pytest.mark.microphone
def test_microphone_level_is_reported_while_someone_speaks(pulse, tmp_path):
    from tests.pulse_support import SINK

    config = write_config(tmp_path, "display:\n  enabled: false\n")
    player = subprocess.Popen(
        ["bash", "-c", f"sleep 0.5; for i in 1 2 3; do paplay --device={SINK} {EVAL_DIR / 'd01.wav'}; done"],
        start_new_session=True,
    )  # fmt: skip
    try:
        result = check("--config", config, "--skip", "model", "--seconds", "4")
    finally:
        os.killpg(player.pid, signal.SIGKILL)  # bash and the paplay it runs
        player.wait()
    status, detail = lines_of(result.stdout)["microphone"]
    assert status == "OK", result.stdout + result.stderr
    assert "dBFS" in detail
    level = float(detail.split("level ")[1].split(" dBFS")[0])
    assert -45 < level < -5
    assert result.returncode == 0, result.stdout


@pytest.mark.microphone
def test_a_silent_microphone_is_ng(pulse, tmp_path):
    time.sleep(0.5)  # nothing plays: the null sink's monitor delivers digital silence
    config = write_config(tmp_path, "display:\n  enabled: false\n")
    result = check("--config", config, "--skip", "model")
    status, detail = lines_of(result.stdout)["microphone"]
    assert status == "NG" and "silent" in detail, result.stdout
    assert result.returncode == 1
