"""``captioner admin set-password`` and ``captioner admin make-cert``."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from captioner.core.errors import CaptionerError
from captioner.core.paths import config_file, data_dir


def add_parser(commands: Any, load_config: Callable[[str | None], Any]) -> None:
    """Register ``admin``; ``load_config(path)`` reads the configuration."""
    admin = commands.add_parser("admin", help="the browser admin page (dictionary editing)")
    admin.set_defaults(load_config=load_config)
    sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    setpw = sub.add_parser("set-password", help="set the admin page password (stored hashed in the config file)")
    setpw.add_argument("--config", metavar="PATH", help="config file to write (default: the user's config file)")
    setpw.add_argument("--stdin", action="store_true", help="read the password from standard input (no prompt; also what happens when input is piped)")
    setpw.set_defaults(handler=cmd_set_password)
    cert = sub.add_parser("make-cert", help="make a self-signed HTTPS certificate and turn on HTTPS (web.tls_cert/tls_key)")
    cert.add_argument("--config", metavar="PATH", help="config file to write (default: the user's config file)")
    cert.add_argument("--name", action="append", metavar="NAME",
                      help="a host name or address tablets use (repeatable; default: this PC's names and LAN address)")  # fmt: skip
    cert.add_argument("--dir", metavar="FOLDER", help="where to write web-cert.pem and web-key.pem (default: the data folder)")
    cert.add_argument("--days", type=int, default=825, help="validity in days (default 825)")
    cert.set_defaults(handler=cmd_make_cert)


def cmd_set_password(args: argparse.Namespace) -> int:
    from web.admin import MIN_PASSWORD, hash_password, set_password_in_config

    path = Path(args.config) if args.config else config_file()
    if args.stdin or not sys.stdin.isatty():  # piped (echo ... | captioner admin set-password): one line, no prompt
        line = sys.stdin.readline()
        if not line:
            raise CaptionerError("no password on standard input; nothing changed")
        password = line.rstrip("\r\n")
    else:
        try:
            password = getpass.getpass(f"New admin password ({MIN_PASSWORD}+ characters): ")
            if getpass.getpass("Repeat it: ") != password:
                raise CaptionerError("the two passwords differ; nothing changed")
        except EOFError as e:  # Ctrl+D at the prompt
            raise CaptionerError("no password entered; nothing changed") from e
    set_password_in_config(path, hash_password(password))
    args.load_config(str(path))  # the file must still be a valid configuration
    print(f"admin password set in {path} (web.admin_password_hash); restart `captioner run` to use it")
    return 0


def cmd_make_cert(args: argparse.Namespace) -> int:
    from web.admin import set_web_values
    from web.tls import default_names, fingerprint, make_self_signed

    if not 1 <= args.days <= 3650:
        raise CaptionerError("--days must be between 1 and 3650")
    path = Path(args.config) if args.config else config_file()
    names = list(dict.fromkeys([*(args.name or []), *default_names()]))
    cert, key = make_self_signed(Path(args.dir) if args.dir else data_dir() / "tls", names, args.days)
    set_web_values(path, {"tls_cert": str(cert.resolve()), "tls_key": str(key.resolve())})
    args.load_config(str(path))  # the file must still be a valid configuration
    print(f"HTTPS certificate {cert} (key {key}, readable by you only) for: {', '.join(names)}")
    print(f"SHA-256 fingerprint: {fingerprint(cert)}")
    print(f"web.tls_cert and web.tls_key set in {path}; restart `captioner run`. Browsers warn once about a")
    print("self-signed certificate: compare the fingerprint above with the one the browser shows, then accept it.")
    return 0
