"""Typed exceptions and exit codes.

Library code raises these; only the CLI entry point (cli/main.py) turns them
into a message and an exit status.
"""
from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1        # an operation was attempted and failed
    BAD_INPUT = 2     # bad usage, bad file, failed validation; nothing changed
    INTERRUPTED = 130


class VhpcError(Exception):
    """Base of every error the toolkit reports to the user; ``hint`` (lines) says what to do about it."""

    exit_code = ExitCode.FAILED

    def __init__(self, *args, hint: str = ""):
        super().__init__(*args)
        self.hint = hint


class InputError(VhpcError):
    """The user's input (flags, files, settings) is wrong; nothing was changed."""

    exit_code = ExitCode.BAD_INPUT


class SettingsError(InputError):
    """vCenter.conf, environment or Vault could not give usable settings."""


class ConnectionFailed(VhpcError):
    """vCenter could not be reached, logged into, or its certificate verified."""


class ConnectionLost(ConnectionFailed):
    """The connection to vCenter broke, or vCenter stopped answering, in the middle of a run."""


class NoAnswer(ConnectionLost):
    """vCenter accepted a call and did not answer it within the read timeout (frozen, overloaded)."""


class SessionLost(ConnectionFailed):
    """vCenter ended the session (idle timeout, an administrator) and a new login did not help."""


class NotFound(InputError):
    """A named inventory object does not exist."""


class Ambiguous(InputError):
    """A name matches several inventory objects."""


class TaskFailed(VhpcError):
    """A vSphere task ended in error; carries the fault's message."""


class ValidationFailed(InputError):
    """Problems found before any change; ``problems`` lists them, one line each.

    The message says itself that nothing was changed: one problem is one line ending so;
    several end with a closing line counting them. ``by_vm`` has the same problems unmerged, by the VM
    each names ("" for those that name none), when the raiser sorted them (a cluster plan's); else
    it is empty.
    """

    def __init__(self, problems: list[str], nothing: str = "nothing was changed", *,
                 by_vm: dict[str, list[str]] | None = None):
        self.problems = list(problems)
        self.by_vm = dict(by_vm or {})
        if len(self.problems) == 1:
            super().__init__(f"{self.problems[0]}; {nothing}")
        else:
            super().__init__("\n".join(self.problems + [f"{len(self.problems)} problems; {nothing}"]))


def refuse_problems(problems: list[str]) -> None:
    """Raise ValidationFailed when any problem was found (the checks before a change end so)."""
    if problems:
        raise ValidationFailed(problems)


class InterruptedEarly(VhpcError):
    """Ctrl-C before any change (while reading, planning or asking): nothing was changed."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str = "interrupted before any change; nothing was changed"):
        super().__init__(message)


class Declined(VhpcError):
    """The user answered no to a confirmation; nothing was changed."""
