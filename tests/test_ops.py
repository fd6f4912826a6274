"""Setting up a counter PC: `admin set-password` with piped input, `service install`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from captioner.app.config import load_config
from web.admin import verify_password


def run(env, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "captioner", *args], input=stdin, capture_output=True, text=True, timeout=120, env=env
    )


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("CAPTIONER_CONFIG", None)
    return env


def test_set_password_from_a_pipe_without_stdin_flag(env, tmp_path):
    result = run(env, "admin", "set-password", stdin="piped-password\n")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "config" / "captioner" / "config.yaml"
    assert verify_password("piped-password", load_config(path).web.admin_password_hash)

    empty = run(env, "admin", "set-password", stdin="")
    assert empty.returncode == 1 and "Traceback" not in empty.stderr
    assert "no password on standard input; nothing changed" in empty.stderr
    assert verify_password("piped-password", load_config(path).web.admin_password_hash)  # unchanged


def test_the_example_unit_in_deploy_matches_what_install_writes():
    from captioner.app.service import UNIT

    example = (Path(__file__).resolve().parents[1] / "deploy" / "captioner.service").read_text(encoding="utf-8")
    service = UNIT[UNIT.index("[Service]") : UNIT.index("{environment}")]
    assert "LimitNOFILE=65536" in service
    assert service.replace("{check}", "%h/counter-captions/.venv/bin/captioner check --seconds 1").replace(
        "{run}", "%h/counter-captions/.venv/bin/captioner run"
    ) in example


def test_service_unit_names_this_installation(env, tmp_path):
    printed = run(env, "service", "install", "--print")
    assert printed.returncode == 0, printed.stderr
    assert not (tmp_path / "config" / "systemd").exists()  # --print writes nothing
    program = Path(sys.executable).parent / "captioner"
    start = f"{program} run" if program.is_file() else f"{sys.executable} -m captioner run"
    assert f"ExecStart={start}\n" in printed.stdout
    assert "\nLimitNOFILE=65536\n" in printed.stdout  # more open files than systemd's 1,024 (idle connections)
    assert "counter-captions/.venv" not in printed.stdout or str(program).find("counter-captions/.venv") >= 0

    config = tmp_path / "counter.yaml"
    config.write_text("asr:\n  model: base\n", encoding="utf-8")
    written = run(env, "service", "install", "--config", str(config))
    assert written.returncode == 0, written.stderr
    unit = tmp_path / "config" / "systemd" / "user" / "captioner.service"
    text = unit.read_text(encoding="utf-8")
    assert f"ExecStart={start} --config {config}\n" in text
    assert f"ExecStartPre=-{start.removesuffix(' run')} check --seconds 1 --config {config}\n" in text
    assert "systemctl --user daemon-reload && systemctl --user enable --now captioner.service" in written.stdout
    assert f"wrote {unit}" in written.stdout
    if shutil.which("systemd-analyze"):  # systemd itself reads the unit (system mode: no user manager needed)
        check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and "captioner.service" not in check.stderr, check.stderr
