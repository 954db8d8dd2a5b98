"""Slurm host lists (``gpu[001-004,7]``), read and written by python-hostlist."""
from __future__ import annotations

from typing import Iterable

import hostlist

from vhpc_toolkit.errors import InputError


def expand(text: str) -> list[str]:
    """The names of a host list, in its order, each once; InputError for a malformed one."""
    try:
        names = hostlist.expand_hostlist(text.strip())
    except hostlist.BadHostlist as exc:
        raise InputError(f"bad host list {text!r}: {exc}") from None
    if not names:
        raise InputError(f"host list {text!r} names no node")
    return list(dict.fromkeys(names))


def compress(names: Iterable[str]) -> str:
    """The shortest host list naming ``names`` (``gpu[001-003]``)."""
    return hostlist.collect_hostlist(list(names))
