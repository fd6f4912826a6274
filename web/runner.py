"""Starting the web viewer and admin page for ``captioner run`` (kept out of the CLI module)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from captioner.core.errors import CaptionerError
from captioner.core.events import CaptionEvent, UtteranceIds
from captioner.core.paths import data_dir
from web import qr
from web.conversation.exchange import ReplyTranslator
from web.options import WebOptions

log = logging.getLogger(__name__)

SECRET_FILE = "web-secret"


def start_web(
    config, *, recognizer=None, microphone: Callable[[], str | None] | None = None, dictionary=None,
    stream: TextIO | None = None, publish: Callable[[CaptionEvent], None] | None = None,
    replies: ReplyTranslator | None = None, ids: UtteranceIds | None = None, about: str = "",
    model_note: Callable[[], str | None] | None = None,
):  # fmt: skip
    """Start the server for ``config.web`` (None when it is off); print its URL and QR code.

    ``config`` has the ``web``, ``dictionary`` and ``translate`` sections; ``microphone()``
    names the audio input now in use (for the admin page's status). ``publish`` sends the
    events the clerk's page and the tablets make (replies, corrections, quick phrases) to
    every caption sink; without it they reach only the browsers. ``replies`` translates a
    resident's reply into Japanese and ``ids`` numbers the replies and phrases: both the
    session's (its translation stage's reply translator, its pipeline's utterance ids).
    ``about`` names the speech model with its licence and attribution for the viewer.

    ``dictionary`` (the running DictionaryStage) gets the admin page's edits at once; the
    folder watcher would also pick them up within ``dictionary.reload_seconds``.
    ``model_note()`` warns about the speech model on the admin page (an adapted model older
    than the dictionary).
    """
    options: WebOptions = config.web
    if not options.enabled:
        return None
    from web.admin import DictionaryAdmin, load_secret
    from web.hub import CaptionHub, furigana_ranges
    from web.gate import AdminContext
    from web.server import WebServer

    ruby = None
    if options.furigana:
        from dictionary.analyzer import shared_analyzer

        ruby = furigana_ranges(shared_analyzer())
    hub = CaptionHub(options.history, ruby)
    hub.about = about
    hub.marker = _marker(config, dictionary)
    words = None
    if config.dictionary.enabled:
        folder = config.dictionary.path()
        words = DictionaryAdmin(
            folder, on_change=_reloader(folder, dictionary) if dictionary is not None else None,
            unwritable=getattr(recognizer, "unwritable", None),
        )  # fmt: skip
    secret = load_secret(data_dir() / SECRET_FILE)
    admin = AdminContext(
        options.admin_password_hash, secret, words,
        session_minutes=options.session_minutes, max_upload=options.max_upload_kb * 1024,
    )  # fmt: skip
    started = time.time()
    describe = recognizer.describe() if recognizer is not None else {}

    def status() -> dict[str, Any]:
        return {
            "model": describe.get("model"),
            "device": describe.get("device"),
            "compute_type": describe.get("compute_type"),
            "microphone": microphone() if microphone is not None else None,
            "dictionary_words": len(dictionary.entries) if dictionary is not None else None,
            "translation": list(config.translate.languages),
            "uptime_s": round(time.time() - started),
            "model_note": model_note() if model_note is not None else None,
        }

    server = WebServer(
        options, hub, admin=admin, status=status, languages=list(config.translate.languages), viewer_secret=secret,
        publish=publish, replies=replies, ids=ids,
    )  # fmt: skip
    try:
        server.start()
    except CaptionerError as e:  # captions matter more than the viewer: go on without it
        log.error("%s; captions continue without the browser viewer", e)
        return None
    try:
        _announce(server, stream or sys.stderr)
    except BaseException:  # Ctrl+C before the caller could take the server: stop it here
        server.stop()
        raise
    return server


def _announce(server, out: TextIO) -> None:
    """The viewer's address and its QR code, for the clerk to show a tablet."""
    url = server.url
    options = server.options
    admin_url = f"{url.split('?')[0]}admin" if options.admin_lan else f"{server.local_url()}admin"
    print(f"Captions in a browser: {url}   (admin page: {admin_url})", file=out)
    print(f"  clerk's screen on this PC: {server.local_url()}clerk", file=out)
    if options.viewer_pin:
        print("  (this URL and QR code set up the counter's tablet, which stays; residents' phones scan the QR code"
              " on that tablet or on the clerk's screen, which changes with each conversation)", file=out)  # fmt: skip
    if not options.lan:
        print("  (this PC only; set web.host: 0.0.0.0 to serve tablets on the local network)", file=out)
    for warning in security_warnings(options):
        log.warning("%s", warning)
    print(qr.text(url), file=out, flush=True)


def security_warnings(options: WebOptions) -> list[str]:
    """What the admin should fix before serving a shared network (see the README)."""
    warnings = []
    if options.lan and not options.viewer_pin:
        warnings.append("web.host serves the local network without web.viewer_pin: anyone on it can read the captions")
    elif options.lan and len(options.viewer_pin) < 6:
        warnings.append("web.viewer_pin is short; on a shared network use 6 or more characters (tablets use the QR code's key)")
    if options.lan and options.admin_lan and not options.tls:
        warnings.append("web.admin_lan without HTTPS: the admin password crosses the network in clear text "
                        "(run `captioner admin make-cert`)")  # fmt: skip
    return warnings


def _marker(config, dictionary):
    """A final's facts (unless ``web.marks`` is off) and the picture of a registered word in it."""
    from display.highlights import Highlights
    from web.marks import marker

    entries = (lambda: dictionary.entries) if dictionary is not None else (lambda: ())
    folder = config.dictionary.path() if config.dictionary.enabled else None
    return marker(Highlights(entries, folder, marks=config.web.marks))


def _reloader(folder, stage):
    def reload() -> None:
        from dictionary.store import load_folder

        result = load_folder(folder)
        stage.set_entries(result.entries)

    return reload
