"""Options of the browser viewer and admin page (the ``web:`` section of the configuration)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

HASH_PREFIXES = ("scrypt$",)
SERVER_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:.]{2,45}")


@dataclass
class WebOptions:
    """Where the viewer is served and who may see it.

    ``host`` 127.0.0.1 (the default) serves this PC only; 0.0.0.0 serves the local network
    (set ``viewer_pin`` where the network is shared). ``admin_password_hash`` is written by
    ``captioner admin set-password``; empty = the admin page is locked. The admin page answers
    this PC only unless ``admin_lan`` is true (then serve it over HTTPS: ``tls_cert`` and
    ``tls_key``, e.g. from ``captioner admin make-cert``). ``server_name`` is the name or
    address tablets use for this PC (QR code, accepted ``Host`` headers); "" = its LAN address.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8765
    viewer_pin: str = ""
    admin_password_hash: str = ""
    history: int = 10
    furigana: bool = True
    max_upload_kb: int = 2048
    session_minutes: int = 480
    counter: str = ""  # this counter's name, stored with satisfaction answers (e.g. "福祉課 1番")
    idle_minutes: float = 10.0  # a conversation with no caption or reply this long ends (survey); 0 = never
    survey: bool = True  # offer the 5-point satisfaction question on the tablet when a conversation ends
    clerk_local: bool = True  # the clerk page works from this PC (loopback) without the admin login
    admin_lan: bool = False
    server_name: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    marks: bool = True  # amounts, dates, times, numbers and registered words bold and framed in finals
    takeaway_minutes: float = 30.0  # the resident's phone page of a conversation lives this long; 0 = off

    def validate(self) -> None:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            if self.host != "localhost":
                raise ValueError(f"host must be an IP address such as 127.0.0.1 or 0.0.0.0, not {self.host!r}") from None
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535 (0 = any free port)")
        if self.viewer_pin and (len(self.viewer_pin) < 4 or len(self.viewer_pin) > 64 or not self.viewer_pin.isprintable()):
            raise ValueError("viewer_pin must be 4 to 64 printable characters (or \"\" for none)")
        if self.admin_password_hash and not self.admin_password_hash.startswith(HASH_PREFIXES):
            raise ValueError("admin_password_hash must be written by `captioner admin set-password` (starts with scrypt$)")
        if not 1 <= self.history <= 100:
            raise ValueError("history must be between 1 and 100 captions")
        if not 1 <= self.max_upload_kb <= 65536:
            raise ValueError("max_upload_kb must be between 1 and 65536")
        if not 5 <= self.session_minutes <= 10080:
            raise ValueError("session_minutes must be between 5 and 10080 (a week)")
        if len(self.counter) > 60 or not self.counter.isprintable():
            raise ValueError("counter must be a printable name of at most 60 characters")
        if not 0 <= self.idle_minutes <= 1440:
            raise ValueError("idle_minutes must be between 0 (never) and 1440")
        if self.server_name and not SERVER_NAME.fullmatch(self.server_name):
            raise ValueError(f"server_name must be a host name or IP address such as counter-pc.local, not {self.server_name!r}")
        if not 0 <= self.takeaway_minutes <= 240:
            raise ValueError("takeaway_minutes must be between 0 (no phone page) and 240")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together (both files, or neither); `captioner admin make-cert` writes both")

    @property
    def tls(self) -> bool:
        """True when the viewer and admin page are served over HTTPS."""
        return bool(self.tls_cert and self.tls_key)

    @property
    def lan(self) -> bool:
        """True when the viewer is reachable from other machines."""
        return self.host not in ("127.0.0.1", "localhost", "::1")


