"""Errors a user can fix. The command line prints them as one clear message
(what is wrong, where, what to do) with no traceback and a stable exit code."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in input, configuration or environment that the user can fix."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  → {self.hint}" if self.hint else base


class Interrupted(UserError):
    """The user pressed Ctrl-C (SIGINT): exit code 130, as a shell reports it."""

    exit_code = 130
