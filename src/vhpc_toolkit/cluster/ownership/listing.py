"""`cluster --list`: every cluster on the vCenter, from one inventory read.

A cluster is whatever carries its mark (marks.py): VMs (extraConfig), distributed switches
(description), standard switches (mark port groups on hosts); and its last run is the record on a
datacenter (cluster/ownership/runs.py). Marks of earlier versions (``HOST:/path``) are listed as the clusters
they were, named after the file's stem and marked ``legacy``: a create of that path takes them over.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Iterator, NamedTuple

from vhpc_toolkit.cluster.ownership.owner import vm_mark_of
from vhpc_toolkit.cluster.ownership.runs import last_runs
from vhpc_toolkit.cluster.ownership.switch_marks import DVS_PROPS, HOST_PROPS, all_names, dvs_mark_on, svs_mark_on
from vhpc_toolkit.marks import Mark, name_of_path
from vhpc_toolkit.ops.networks.distributed import DVS_TYPES
from vhpc_toolkit.vsphere.fields import MARK_PROPS
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory

PROPS = {"VirtualMachine": ["config.extraConfig", "config.template"], "Datacenter": list(MARK_PROPS),
         "HostSystem": HOST_PROPS, "DistributedVirtualSwitch": DVS_PROPS}


@dataclass
class ListedCluster:
    name: str
    legacy: str | None = None                  # HOST:/path of an earlier version's marks
    datacenters: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)
    vms: int = 0
    switches: dict[str, str] = field(default_factory=dict)   # name -> svs | dvs
    last_run: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "legacy": self.legacy is not None, "datacenters": sorted(self.datacenters),
                "folders": sorted(self.folders), "vms": self.vms,
                "switches": [{"name": n, "kind": k} for n, k in sorted(self.switches.items())],
                "last_run": self.last_run}


@dataclass
class ClusterList:
    """The clusters on a vCenter (``cluster --list``)."""

    clusters: list[ListedCluster]
    ok: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"clusters": [c.to_dict() for c in self.clusters]}


def _entry(found: dict, mark: Mark | None) -> ListedCluster | None:
    if mark is None or mark.other is not None:
        return None
    key = mark.cluster or mark.legacy
    if key not in found:
        if mark.cluster is not None:
            found[key] = ListedCluster(mark.cluster)
        else:
            host, _, path = mark.legacy.partition(":")
            found[key] = ListedCluster(name_of_path(path), legacy=mark.legacy,
                                       last_run={"path": path, "machine": host, "user": None, "time": None,
                                                 "action": None})
    return found[key]


class Marked(NamedTuple):
    """What can carry a cluster's mark: a VM (``switch`` None), a standard switch (``obj`` its host) or a
    distributed switch (``switch`` its name), with the mark it carries."""

    kind: str             # vm | svs | dvs
    obj: Obj
    switch: str | None
    mark: Mark | None

    @property
    def key(self) -> tuple[str, str | None]:
        return self.obj.moid, self.switch


def marked(inv: Inventory) -> Iterator[Marked]:
    """Every VM (templates too), standard switch on a host and distributed switch of ``inv`` (read with
    PROPS), with its mark (None: it carries none)."""
    for o in inv.of_type("VirtualMachine"):
        yield Marked("vm", o, None, vm_mark_of(o))
    names = all_names(inv)
    for h in inv.of_type("HostSystem"):
        for vs in h.get("config.network.vswitch") or []:
            yield Marked("svs", h, vs.name, svs_mark_on(h, vs.name, names))
    for o in inv.of_type(*DVS_TYPES):
        yield Marked("dvs", o, o.name, dvs_mark_on(o, names))


def clusters_of(inv: Inventory, without: Collection[tuple[str, str | None]] = ()) -> list[ListedCluster]:
    """Every cluster whose marks ``inv`` (read with PROPS) holds, by name; ``without``: the keys
    (``Marked.key``) of what no longer carries the mark it was read with."""
    found: dict[str, ListedCluster] = {}
    for m in marked(inv):
        skip = m.key in without or (m.kind == "vm" and m.obj.get("config.template"))
        entry = None if skip else _entry(found, m.mark)
        if entry is None:
            continue
        dc = inv.ancestor(m.obj, "Datacenter")
        entry.datacenters |= {dc.name} if dc is not None else set()
        if m.kind == "vm":
            entry.vms += 1
            parent = inv.parent(m.obj)
            entry.folders |= {inv.path(parent)} if parent is not None else set()
        else:
            entry.switches[m.switch] = m.kind
    for name, run in last_runs(inv).items():
        entry = found.get(name) or found.setdefault(name, ListedCluster(name))
        entry.last_run = run
    return sorted(found.values(), key=lambda c: (c.name, c.legacy or ""))


def list_clusters(session) -> ClusterList:
    """Calls: one inventory read (CreateContainerView, RetrievePropertiesEx + pages)."""
    return ClusterList(clusters_of(read_inventory(session, PROPS)))


def where(c: ListedCluster) -> str:
    return ", ".join(sorted(c.folders)) or ", ".join(f"/{d}" for d in sorted(c.datacenters)) or "-"


def last_run_text(c: ListedCluster) -> str:
    run = c.last_run or {}
    if not run.get("path"):
        return "-"
    base = f"{run.get('machine') or '?'}:{run['path']}"
    when = f" {run['action']} at {run['time']}" if run.get("time") else " (an earlier version's mark)"
    return base + when

