"""The application's exceptions and their exit codes: one base class, a few kinds a user can act on."""

from __future__ import annotations


class CaptionerError(Exception):
    """Base class: a problem the user can fix; the CLI prints it and exits non-zero."""

    exit_code = 1


class ConfigError(CaptionerError):
    """A configuration file is malformed: the message names the file and the key."""

    exit_code = 2


class ModelError(CaptionerError):
    """The speech model cannot be found, assembled, verified or loaded."""

    exit_code = 3


class AudioDeviceError(CaptionerError):
    """An input device is missing, busy or unusable."""

    exit_code = 4


class AudioFileError(CaptionerError):
    """An audio file cannot be read or holds no audio."""

    exit_code = 5


class DisplayError(CaptionerError):
    """The caption window cannot be opened or used."""

    exit_code = 6


class DisplayUnavailable(DisplayError):
    """No screen to show a window on (no desktop session, pygame missing)."""


class PackageError(CaptionerError):
    """A translation package is missing, malformed or does not load."""

    exit_code = 7
