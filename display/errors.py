"""Display errors (subclasses of the application's base error)."""

from __future__ import annotations

from captioner.core.errors import CaptionerError


class DisplayError(CaptionerError):
    """The caption window cannot be opened or used."""

    exit_code = 6


class DisplayUnavailable(DisplayError):
    """No screen to show a window on (no desktop session, pygame missing)."""
