"""Lists of names said briefly: ``gpu01..gpu04, login01`` rather than every name.

One problem that hits many VMs is said once with the VMs it hits; a run of names that differ
only by a number counting up by one is written as its first and last name.
"""
from __future__ import annotations

import re
from typing import Iterable, List, Optional, Tuple

_NUMBERED = re.compile(r"^(.*?)(\d+)(\D*)$", re.S)


def _split(name: str) -> Optional[Tuple[str, int, int, str]]:
    """(prefix, number, digits written, suffix) of the last number in ``name``."""
    m = _NUMBERED.match(name)
    if not m:
        return None
    return m.group(1), int(m.group(2)), len(m.group(2)), m.group(3)


def _follows(prev: str, name: str) -> bool:
    a, b = _split(prev), _split(name)
    if a is None or b is None or (a[0], a[3]) != (b[0], b[3]) or b[1] != a[1] + 1:
        return False
    # node09 -> node10 keeps the width; node9 -> node10 grows without padding (node9 -> node010 does not follow)
    return a[2] == b[2] or (len(str(a[1])) == a[2] and len(str(b[1])) == b[2])


def runs(names: Iterable[str]) -> List[List[str]]:
    """The names in their order, cut into runs of consecutive numbers."""
    out: List[List[str]] = []
    for name in names:
        if out and _follows(out[-1][-1], name):
            out[-1].append(name)
        else:
            out.append([name])
    return out


def compact_names(names: Iterable[str], limit: int = 0) -> str:
    """``login01, gpu01..gpu04``: runs of three or more as first..last; with ``limit``, at most that
    many parts and then ``and N more``."""
    parts: List[str] = []
    for run in runs(names):
        parts += [f"{run[0]}..{run[-1]}"] if len(run) >= 3 else run
    if limit and len(parts) > limit:
        rest = len(parts) - limit
        return ", ".join(parts[:limit]) + f" and {rest} more"
    return ", ".join(parts)
