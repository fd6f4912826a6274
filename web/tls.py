"""A self-signed HTTPS certificate for the admin page and viewer (``captioner admin make-cert``).

Runs the ``openssl`` command (present on Linux, macOS and with Git for Windows). The
certificate names this PC (host name, ``.local`` name, LAN address, loopback and any names
given); browsers warn once about a self-signed certificate, which the admin accepts after
checking the fingerprint printed by the command.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from captioner.core.errors import CaptionerError

CERT_FILE = "web-cert.pem"
KEY_FILE = "web-key.pem"
HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?")


def default_names() -> list[str]:
    """This PC's names and addresses, and loopback."""
    import socket

    from web.addresses import lan_address

    host = socket.gethostname()
    names = [
        host,
        f"{host.split('.')[0]}.local",
        "localhost",
        lan_address(),
        "127.0.0.1",
        "::1",
    ]
    return list(dict.fromkeys(n for n in names if n))


def make_self_signed(
    folder: Path, names: list[str] | None = None, days: int = 825
) -> tuple[Path, Path]:
    """Write ``web-cert.pem`` and ``web-key.pem`` (mode 0600) into ``folder``; return their paths."""
    names = list(dict.fromkeys(names or default_names()))
    if not names:
        raise CaptionerError("make-cert: no host name to put in the certificate")
    for name in names:
        if not _is_address(name) and not (len(name) <= 253 and HOST_NAME.fullmatch(name)):
            raise CaptionerError(f"make-cert: {name!r} is neither a host name nor an IP address (a comma would add other names)")
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / CERT_FILE, folder / KEY_FILE
    _with_openssl(cert, key, names, days)
    return cert, key


def fingerprint(cert: Path) -> str:
    """The SHA-256 fingerprint browsers show for the certificate (AA:BB:...)."""
    import hashlib
    import ssl

    der = ssl.PEM_cert_to_DER_cert(Path(cert).read_text(encoding="ascii"))
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _subject_alt_names(names: list[str]) -> list[str]:
    return [f"IP:{name}" if _is_address(name) else f"DNS:{name}" for name in names]


def _with_openssl(cert: Path, key: Path, names: list[str], days: int) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise CaptionerError(
            "make-cert needs the openssl command: install OpenSSL "
            "(Debian/Ubuntu: apt-get install openssl; Windows: it comes with Git for Windows), "
            "or give your own certificate in web.tls_cert and web.tls_key"
        )
    with tempfile.TemporaryDirectory(
        prefix="captioner-cert-", dir=cert.parent
    ) as temporary:
        new_cert, new_key = Path(temporary) / "cert.pem", Path(temporary) / "key.pem"
        command = [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(new_key), "-out", str(new_cert), "-days", str(days), "-subj", f"/CN={names[0][:64]}",
            "-addext", "subjectAltName=" + ",".join(_subject_alt_names(names)),
            "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth",
        ]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise CaptionerError(
                f"openssl could not make the certificate: {done.stderr.strip()[-500:]}"
            )
        os.chmod(new_key, 0o600)
        os.replace(new_key, key)
        os.replace(new_cert, cert)
