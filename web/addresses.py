"""This PC's IPv4 addresses on the local network, for the URL and QR code tablets open.

Tablets cannot resolve the PC's host name (``http://vm:8765/``), so the URL uses an address.
:func:`lan_addresses` asks the interfaces directly (Linux: ``SIOCGIFADDR`` per interface),
then the resolver for the host name, then which address the default route would use (a UDP
socket that is connected but never sends). Loopback and link-local (169.254.x.x) addresses
are left out. When there are several, the admin page lets the admin choose; the choice is
kept in the data folder. :func:`viewer_url` builds the URL tablets open from it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import struct
import sys
from pathlib import Path

from web.options import WebOptions

log = logging.getLogger(__name__)

CHOICE_FILE = "lan-address.json"
SIOCGIFADDR = 0x8915


def usable(address: str) -> bool:
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _interfaces() -> list[tuple[str, str]]:
    """(interface, address) from the kernel (Linux only; elsewhere empty)."""
    if not sys.platform.startswith("linux"):
        return []
    import fcntl

    found = []
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in names:
            try:
                packed = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:  # no IPv4 address on it
                continue
            found.append((name, socket.inet_ntoa(packed[20:24])))
    return found


def _resolved() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [info[4][0] for info in infos]


def _default_route() -> str | None:
    """The source address for the default route (connect() on UDP sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, never sent to
            return sock.getsockname()[0]
        except OSError:
            return None


def lan_addresses() -> list[dict[str, str]]:
    """[{"address", "interface"}] usable by tablets; the default route's address first."""
    found: dict[str, str] = {}
    for name, address in _interfaces():
        if usable(address):
            found.setdefault(address, name)
    for address in _resolved():
        if usable(address):
            found.setdefault(address, "")
    preferred = _default_route()
    order = sorted(found, key=lambda a: (a != preferred, ipaddress.IPv4Address(a)))
    if preferred and usable(preferred) and preferred not in found:
        order.insert(0, preferred)
        found[preferred] = ""
    return [{"address": a, "interface": found[a]} for a in order]


class AddressChoice:
    """The address the admin chose for the URL (``lan-address.json`` in the data folder)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def chosen(self) -> str | None:
        try:
            value = json.loads(self.path.read_text(encoding="utf-8")).get("address")
        except (OSError, ValueError, AttributeError):
            return None
        return value if isinstance(value, str) and usable(value) else None

    def choose(self, address: str | None) -> None:
        """Keep ``address`` (one of :func:`lan_addresses`), or forget the choice with None."""
        from captioner.core.files import atomic_write

        if address is not None and address not in {a["address"] for a in lan_addresses()}:
            raise ValueError(f"{address} はこのパソコンのアドレスではありません")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, (json.dumps({"address": address}) + "\n").encode("utf-8"))

    def best(self) -> str | None:
        """The chosen address while the PC still has it, else the first found; None without a network."""
        addresses = [a["address"] for a in lan_addresses()]
        chosen = self.chosen()
        if chosen in addresses:
            return chosen
        return addresses[0] if addresses else None


def lan_address() -> str:
    """This PC's address on the local network (best guess without sending anything)."""
    from captioner.core.paths import data_dir

    best = AddressChoice(data_dir() / CHOICE_FILE).best()  # the admin's choice, else the first found
    if best:
        return best
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for info in infos:
        address = info[4][0]
        if not address.startswith("127."):
            return address
    return socket.gethostname()


def viewer_url(
    options: WebOptions, port: int | None = None, *, host: str | None = None, with_pin: bool = True, key: str | None = None,
) -> str:  # fmt: skip
    """The URL a tablet opens; with the viewer ``key`` (never the PIN itself) when a PIN is
    set, so scanning the QR code is enough."""
    if host is None:
        host = options.server_name or options.host
        if host in ("0.0.0.0", "::", ""):
            host = lan_address()
    if ":" in host:
        host = f"[{host}]"
    url = f"{'https' if options.tls else 'http'}://{host}:{port or options.port}/"
    if with_pin and options.viewer_pin and key:
        url += f"?key={key}"
    return url
