"""``captioner service install``: the systemd user unit for this installation.

The unit names the ``captioner`` program of the Python environment this command runs in
(wherever the project was installed), for the user who runs it; ``--print`` only shows it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import shutil
import sys
from pathlib import Path

from captioner.core.errors import CaptionerError
from captioner.core.files import atomic_write

UNIT_NAME = "captioner.service"

UNIT = """\
# systemd *user* unit written by `captioner service install` for {user}
# (program: {program}). Captions start when this user logs in and come back after a crash.
# Log: journalctl --user -u captioner -f      (a crash leaves its traceback here)
[Unit]
Description=Counter captions (live captions for the service counter)
After=graphical-session.target sound.target pipewire.service pulseaudio.service
PartOf=graphical-session.target
# Five crashes within ten minutes: stop trying (the journal says why) rather than loop all day.
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
Type=simple
# The morning readiness report goes to the journal first; captions start even if something is NG
# (a missing microphone is shown on screen and picked up when it is plugged in).
ExecStartPre=-{check}
ExecStart={run}
Restart=on-failure
RestartSec=5
Environment=PYTHONUNBUFFERED=1
# Every tablet connection is an open file: systemd's default of 1,024 is too few when a client
# piles up idle connections (the server also raises its own soft limit towards the hard one).
LimitNOFILE=65536
{environment}
[Install]
WantedBy=graphical-session.target
"""


def captioner_command() -> list[str]:
    """How to start this installation: the venv's ``captioner`` script, else ``python -m captioner``."""
    bindir = Path(sys.executable).parent
    for name in ("captioner", "captioner.exe"):
        script = bindir / name
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script)]
    return [str(Path(sys.executable)), "-m", "captioner"]


def unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME")
    return Path(base or Path.home() / ".config") / "systemd" / "user"


def _systemd_quote(word: str) -> str:
    """Quote one ExecStart word for systemd (spaces need double quotes; % and $ are special)."""
    word = word.replace("%", "%%").replace("$", "$$")
    if any(c.isspace() for c in word) or '"' in word or "\\" in word:
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def render_unit(config: str | None = None) -> str:
    command = captioner_command()
    config_args = ["--config", str(Path(config).resolve())] if config else []
    line = lambda *words: " ".join(_systemd_quote(w) for w in [*command, *words])
    environment = ""
    if os.environ.get("CAPTIONER_CONFIG") and not config:
        environment += f"Environment={_systemd_quote('CAPTIONER_CONFIG=' + os.environ['CAPTIONER_CONFIG'])}\n"
    return UNIT.format(
        user=getpass.getuser(),
        program=" ".join(shlex.quote(c) for c in command),
        check=line("check", "--seconds", "1", *config_args),
        run=line("run", *config_args),
        environment=environment,
    )


def add_parser(commands) -> None:
    service = commands.add_parser("service", help="start captions at login: write the systemd user unit for this installation")
    actions = service.add_subparsers(dest="service_action", required=True, metavar="ACTION")
    install = actions.add_parser("install", help="write ~/.config/systemd/user/captioner.service for this installation and user")
    install.add_argument("--print", dest="print_only", action="store_true", help="only print the unit, write nothing")
    install.add_argument("--config", metavar="PATH", help="configuration file the service should use")
    install.set_defaults(handler=cmd_install)


def cmd_install(args: argparse.Namespace) -> int:
    if os.name == "nt":
        raise CaptionerError(
            "systemd is Linux only; on Windows run: powershell -ExecutionPolicy Bypass -File deploy\\install-windows-task.ps1"
        )
    if args.config and not Path(args.config).is_file():
        raise CaptionerError(f"{args.config}: configuration file not found")
    text = render_unit(args.config)
    if args.print_only:
        print(text, end="")
        return 0
    folder = unit_dir()
    path = folder / UNIT_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.read_text(encoding="utf-8") != text:
            shutil.copyfile(path, path.with_name(UNIT_NAME + ".bak"))
        atomic_write(path, text)
    except OSError as e:
        raise CaptionerError(f"cannot write {path}: {e.strerror or e}") from e
    print(f"wrote {path} (runs {' '.join(captioner_command())} as {getpass.getuser()}):\n")
    print(text)
    print("Enable it (starts now and at every login):")
    print("  systemctl --user daemon-reload && systemctl --user enable --now captioner.service")
    print("Follow the log:  journalctl --user -u captioner -f")
    print("Stop / disable:  systemctl --user disable --now captioner.service")
    return 0
