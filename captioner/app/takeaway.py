"""Wiring the caption window to what the resident takes away: facts framed and registered words'
pictures (the session's dictionary), and the QR code of the phone page (the session's web server)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def connect_window(session, sinks: Sequence[Any], config) -> None:
    """For each caption window among ``sinks``: marks and pictures, and the phone page's QR code."""
    windows = [sink for sink in sinks if hasattr(sink, "use_highlights")]
    if not windows:
        return
    from display.highlights import Highlights

    stage = session.dictionary
    entries = (lambda: stage.entries) if stage is not None else (lambda: ())
    folder = config.dictionary.path() if config.dictionary.enabled else None
    app = getattr(session.server, "app", None)
    for window in windows:
        window.use_highlights(Highlights(entries, folder))
        if app is not None:
            app.state.takeaway.announce.append(window.show_qr)
