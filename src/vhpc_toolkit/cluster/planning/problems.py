"""Problems of a plan said once per cause: ``c.conf:3: template 'x' not found: login01, gpu01..gpu04``.

The checks of a plan run per VM and say ``FILE:LINE: VM NAME: message``; a cause that hits many VMs
(a template that does not exist, a port group, a missing password) would be one line per VM. Here the
lines with the same message become one, naming the VMs it hits (and the file lines, when several).
"""
from __future__ import annotations

import re

from vhpc_toolkit.namelists import compact_names
from vhpc_toolkit.specs.tuning import compact_ranges

_PER_VM = re.compile(r"^(?P<line>\d+): VM '?(?P<vm>[^\s:']+)'?(?P<on> on host [^\s:]+)?: (?P<msg>.+)$", re.S)


def problems_by_vm(problems: list[str], path: str) -> dict[str, list[str]]:
    """``problems`` by the VM each names (``FILE:LINE: VM NAME: ...``), "" for those naming none."""
    out: dict[str, list[str]] = {}
    for problem in problems:
        m = _PER_VM.match(problem[len(path) + 1:]) if problem.startswith(f"{path}:") else None
        out.setdefault(m.group("vm") if m else "", []).append(problem)
    return out


def said_once(problems: list[str], path: str) -> list[str]:
    """``problems`` with those of one message on several VMs of the file ``path`` merged, in the order
    each message first appeared."""
    order: list[str] = []          # a problem as it is, or the key of a merged message
    hits: dict[str, list[tuple[int, str, str]]] = {}
    prefix = f"{path}:"
    for problem in problems:
        m = _PER_VM.match(problem[len(prefix):]) if problem.startswith(prefix) else None
        if m is None:
            order.append(problem)
            continue
        msg = (m.group("on") or "") + "\0" + m.group("msg")   # the host (if any) is part of the cause
        if msg not in hits:
            hits[msg] = []
            order.append("\0" + msg)
        hits[msg].append((int(m.group("line")), m.group("vm"), problem))
    out = []
    for item in dict.fromkeys(order):
        if not item.startswith("\0"):
            out.append(item)
            continue
        msg, found = item[1:], hits[item[1:]]
        if len(found) == 1:
            out.append(found[0][2])
            continue
        on, _, msg = msg.partition("\0")
        lines = sorted({line for line, _, _ in found})
        where = f" (lines {compact_ranges(lines, ', ')})" if len(lines) > 1 else ""
        names = compact_names(vm for _, vm, _ in found)
        if on:   # VMs a, b on host h: the cause
            out.append(f"{path}:{lines[0]}: VMs {names}{on}: {msg}{where}")
            continue
        head, sep, tail = msg.partition("; ")
        out.append(f"{path}:{lines[0]}: {head}: {names}{where}{sep}{tail}")
    return out
