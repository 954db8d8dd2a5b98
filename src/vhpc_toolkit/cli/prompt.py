"""Asking the user: confirmations (never guessed without a terminal)."""
from __future__ import annotations

from vhpc_toolkit.errors import Declined, InputError


def confirm(ctx, question: str) -> None:
    """Go ahead, or raise: --yes answers yes; a terminal is asked; anything else is an error."""
    if ctx.yes:
        return
    if not ctx.interactive:
        raise InputError(f"{question} (not a terminal: add --yes to confirm)")
    from rich.prompt import Confirm

    if not Confirm.ask(question, console=ctx.err, default=False):
        raise Declined("nothing was changed")


def can_ask(ctx, what: str = "destroying") -> None:
    """Refuse at once (before any login) when a confirmation will be needed and cannot be asked."""
    if not ctx.yes and not ctx.interactive:
        raise InputError(f"{what} needs a confirmation: not a terminal, add --yes to confirm")
