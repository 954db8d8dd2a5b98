"""VMs that carry a cluster file's naming pattern but are no longer in it (a range that shrank).

Only a name range gives a pattern: ``node{1:16}`` matches node17 once the range is
``node{1:8}``, but a VM written without a range (``login``) never matches anything
else, and ``node1`` never matches ``node10`` by prefix. Templates are never strays.

A stray is the cluster's own, as `cluster --destroy` judges VMs (cluster/ownership/owner.py): it is in
the folder the file puts VMs of that pattern in, and carries no other cluster's mark. `--prune`
destroys only the strays that carry the cluster's mark (the cluster made them); one made by hand in
the folder is listed and left. Where the file gives no datacenter and the inventory has several,
the folder is the template's datacenter's when the template names one VM; otherwise only strays
carrying the cluster's mark are the cluster's (the mark proves it), in a folder of the file's
folder name in any datacenter.
"""
from __future__ import annotations

import re

from vhpc_toolkit.cluster.ownership.owner import Unproven, owner_of, target_folder, vm_mark_of
from vhpc_toolkit.cluster.state.result import Stray
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.vsphere.inventory import Inventory, Obj


def _patterns(spec: ClusterSpec) -> dict[str, list]:
    """Each naming pattern of the file and the VMs of the file that have it."""
    out: dict[str, list] = {}
    for vm in spec.vms:
        if vm.pattern:
            out.setdefault(vm.pattern, []).append(vm)
    return out


def candidates(inv: Inventory, spec: ClusterSpec) -> list[Obj]:
    """VMs whose name has one of the file's patterns and that the file does not list (wherever they are)."""
    names = {vm.name for vm in spec.vms}
    patterns = [re.compile(p) for p in _patterns(spec)]
    if not patterns:
        return []
    return [o for o in inv.of_type("VirtualMachine")
            if o.name not in names and not o.get("config.template") and any(p.match(o.name) for p in patterns)]


def strays(inv: Inventory, spec: ClusterSpec) -> list[Obj]:
    """The cluster's VMs the file no longer lists (read with ``config.extraConfig`` for the marks)."""
    owner = owner_of(spec)
    folders: dict[str, set[str]] = {}    # pattern -> moids of the folders its VMs go to
    proven_only: set[str] = set()         # patterns whose datacenter is not known: marked strays only
    for pattern, vms in _patterns(spec).items():
        seen = folders.setdefault(pattern, set())
        for vm in {(vm.datacenter, vm.vm_folder, vm.template): vm for vm in vms}.values():
            try:
                seen.add(target_folder(inv, vm).moid)
            except Unproven:
                proven_only.add(pattern)
                seen.update(_named_folders(inv, vm))
            except VhpcError:     # the plan reports a missing datacenter or folder
                pass
    compiled = [(re.compile(p), moids, p in proven_only) for p, moids in folders.items()]
    found = []
    for o in candidates(inv, spec):
        parent = getattr(o.get("parent"), "_moId", None)
        mark = vm_mark_of(o)
        if any(p.match(o.name) and parent in moids and (owner.owns(mark) if proven else not owner.foreign(mark))
               for p, moids, proven in compiled):
            found.append(o)
    return sorted(found, key=lambda o: o.name)


def _named_folders(inv: Inventory, vm) -> set[str]:
    """The folders of the file's folder name (or the VM folders) in every datacenter."""
    if vm.vm_folder:
        return {f.moid for f in inv.of_type("Folder") if f.name == vm.vm_folder.rstrip("/").rsplit("/", 1)[-1]}
    return {getattr(dc.get("vmFolder"), "_moId", None) for dc in inv.of_type("Datacenter")} - {None}


def made_by_file(vm: Obj, spec: ClusterSpec) -> bool:
    """Whether the cluster's own `cluster --create` made ``vm`` (it carries the cluster's mark)."""
    return owner_of(spec).owns(vm_mark_of(vm))


def stray_row(inv: Inventory, vm: Obj, **fields) -> Stray:
    """The report's row of a stray ``vm`` (read with ``runtime.host``, ``runtime.powerState``): its
    name, its host's name and its power state; ``fields`` (power_state, status, detail) override."""
    host = inv.by_ref(vm.get("runtime.host"))
    row = {"power_state": vm.get("runtime.powerState"), **fields}
    return Stray(vm.name, host.name if host else None, **row)


LEFT = "no mark of this cluster (not made by its cluster --create): --prune leaves it; destroy --vm removes it"
