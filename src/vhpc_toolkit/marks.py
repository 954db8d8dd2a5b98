"""The owner marks a cluster's objects carry on vCenter: their format, pure (no server).

A cluster is named (``[_CLUSTER_] name:``, else the cluster file's stem) and its name is its
identity on vCenter. Format 2 marks carry that name:

- a VM: extraConfig ``vhpc_toolkit.owner`` = ``{"cluster": "NAME", "format": 2}`` (JSON, so later
  formats can add keys: a reader takes the name and ignores what it does not know);
- a distributed switch: a line ``vhpc_toolkit.owner: {"cluster": "NAME", "format": 2}`` in its
  description (``config.description``), the rest of the description kept;
- a standard switch (no vCenter object of its own, nothing to write on but its port groups): a port
  group ``vhpc-owner.NAME.SWITCH`` on the switch, on each host where the cluster created it. It
  carries no traffic (no adapter may use it), needs no privilege beyond making the switch, and
  goes with the switch.

Format 1 (earlier versions) marked VMs, and switches through custom attributes, with
``HOST:/absolute/path/of/the/file``: :func:`parse` reads both.
"""
from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass

OWNER_KEY = "vhpc_toolkit.owner"          # the VM's extraConfig key; the DVS description's line label
FORMAT = 2
MAX_CLUSTER_NAME = 64
NAME_RE = re.compile(r"[A-Za-z0-9._-]+\Z")
SVS_MARK_PREFIX = "vhpc-owner."
MAX_PORT_GROUP = 80                      # a standard port group names a vCenter network: 80 characters at most
_LEGACY_RE = re.compile(r"[^\s:/]*:/")   # HOST:/path (format 1)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a cluster, or None."""
    if not name:
        return "the cluster name is empty"
    if len(name) > MAX_CLUSTER_NAME:
        return f"cluster name {name!r} is longer than {MAX_CLUSTER_NAME} characters"
    if not NAME_RE.match(name):
        bad = "".join(sorted({c for c in name if not NAME_RE.match(c)}))
        return f"cluster name {name!r} has characters other than letters, digits, '-', '_' and '.' ({bad!r})"
    return None


def name_of_path(path: str) -> str:
    """The name of a cluster whose file does not give one: the file's stem, characters other than
    letters, digits, '-', '_' and '.' replaced by '-' (``my cluster.conf`` is ``my-cluster``)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-")[:MAX_CLUSTER_NAME]
    return name or "cluster"


def legacy_mark(path: str) -> str:
    """The format-1 mark earlier versions wrote for the file at ``path`` on this machine."""
    return f"{socket.gethostname()}:{os.path.realpath(path)}"


@dataclass(frozen=True)
class Mark:
    """A mark as read: a cluster's (format 2 or later), an earlier version's ``HOST:/path``, or
    text that is neither (``other``: written by someone else under our key)."""

    cluster: str | None = None
    legacy: str | None = None
    other: str | None = None

    def describe(self) -> str:
        if self.cluster is not None:
            return f"cluster {self.cluster}"
        if self.legacy is not None:
            return f"the file {self.legacy} (a mark of an earlier version)"
        return f"an unknown mark {self.other!r}"


def vm_mark(name: str) -> str:
    """The text of cluster ``name``'s mark (a VM's extraConfig value)."""
    return json.dumps({"cluster": name, "format": FORMAT}, separators=(", ", ": "))


def parse(text: str | None) -> Mark | None:
    """The mark in ``text`` (a VM's extraConfig value, a legacy custom attribute), or None if empty."""
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("cluster"), str) and isinstance(doc.get("format"), int):
            return Mark(cluster=doc["cluster"])
    if _LEGACY_RE.match(text):
        return Mark(legacy=text)
    return Mark(other=text)


# --- a distributed switch's description ----------------------------------------------------------

_LINE = OWNER_KEY + ":"


def dvs_mark(description: str | None) -> Mark | None:
    """The mark line of a switch's description, or None."""
    for line in (description or "").splitlines():
        if line.startswith(_LINE):
            return parse(line[len(_LINE):])
    return None


def with_dvs_mark(description: str | None, name: str) -> str:
    """``description`` with cluster ``name``'s mark line first (an earlier mark line replaced,
    the rest kept: the user's text, the PVRDMA record)."""
    rest = [line for line in (description or "").splitlines() if not line.startswith(_LINE)]
    return "\n".join([f"{_LINE} {vm_mark(name)}"] + rest)


# --- a standard switch's mark port group --------------------------------------------------------

def svs_mark(name: str, switch: str) -> str:
    """The name of the port group that marks standard switch ``switch`` as cluster ``name``'s."""
    return f"{SVS_MARK_PREFIX}{name}.{switch}"


def svs_mark_owner(port_group: str, switch: str) -> str | None:
    """The cluster a port group of ``switch`` marks it for, or None when it is no mark."""
    suffix = "." + switch
    if port_group.startswith(SVS_MARK_PREFIX) and port_group.endswith(suffix):
        name = port_group[len(SVS_MARK_PREFIX):-len(suffix)]
        return name if name and name_problem(name) is None else None
    return None


def svs_mark_problem(name: str, switch: str) -> str | None:
    """Why standard switch ``switch`` of cluster ``name`` cannot carry its mark, or None."""
    mark = svs_mark(name, switch)
    if len(mark) > MAX_PORT_GROUP:
        return (f"switch {switch}: its ownership mark, port group {mark!r}, would be longer than "
                f"{MAX_PORT_GROUP} characters: give a shorter switch name or [_CLUSTER_] name")
    return None
