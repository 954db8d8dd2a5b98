"""`view --cluster/--host/--vm`: the view document cut down to what was asked (pure code).

A cluster or host that is not in the inventory is an error naming the near names (a typo should
not look like an empty cluster); a VM pattern that matches nothing is not: the document says so.
"""
from __future__ import annotations

import difflib
import fnmatch
from typing import Any

from vhpc_toolkit.errors import NotFound


def short_name(name: str) -> str:
    return name.split(".", 1)[0]


def host_matches(name: str, wanted: list[str]) -> bool:
    """A host is named by its full name or its name before the domain, in any case."""
    return any(w.lower() in (name.lower(), short_name(name).lower()) for w in wanted)


def _check(kind: str, wanted: list[str], known: list[str], match) -> None:
    for w in wanted:
        if not any(match(k, [w]) for k in known):
            near = difflib.get_close_matches(w, known, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            raise NotFound(f"{kind} {w!r} not found{hint}")


def check_names(doc: dict[str, Any], clusters: list[str], hosts: list[str]) -> None:
    """Every cluster and host asked for exists (NotFound with the near names otherwise)."""
    _check("cluster", clusters, [c["name"] for dc in doc["datacenters"] for c in dc["clusters"]],
           lambda k, w: k in w)
    _check("host", hosts, [h["name"] for dc in doc["datacenters"]
                           for h in dc["standalone_hosts"] + [h for c in dc["clusters"] for h in c["hosts"]]],
           host_matches)


def _host(host: dict[str, Any], hosts: list[str], vms: list[str]) -> dict[str, Any] | None:
    if hosts and not host_matches(host["name"], hosts):
        return None
    if not vms:
        return host
    kept = [v for v in host["vms"] if any(fnmatch.fnmatchcase(v["name"], g) for g in vms)]
    return dict(host, vms=kept) if kept else None


def filter_view(doc: dict[str, Any], clusters: list[str] | None = None, hosts: list[str] | None = None,
                vms: list[str] | None = None) -> dict[str, Any]:
    """The datacenters, clusters, hosts and VMs of ``doc`` that the filters keep; a datacenter or
    cluster left empty by a host or VM filter goes too."""
    clusters, hosts, vms = clusters or [], hosts or [], vms or []
    check_names(doc, clusters, hosts)
    out = []
    for dc in doc["datacenters"]:
        kept_clusters = []
        for c in dc["clusters"]:
            if clusters and c["name"] not in clusters:
                continue
            kept = [h for h in (_host(h, hosts, vms) for h in c["hosts"]) if h is not None]
            if kept or not (hosts or vms):
                kept_clusters.append(dict(c, hosts=kept))
        standalone = [] if clusters else [h for h in (_host(h, hosts, vms) for h in dc["standalone_hosts"])
                                          if h is not None]
        if kept_clusters or standalone or not (clusters or hosts or vms):
            out.append(dict(dc, clusters=kept_clusters, standalone_hosts=standalone))
    filtered = dict(doc, datacenters=out)
    filtered["filters"] = {k: v for k, v in (("cluster", clusters), ("host", hosts), ("vm", vms)) if v}
    return filtered
