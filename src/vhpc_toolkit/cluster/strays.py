"""VMs that carry a cluster file's naming pattern but are no longer in it (a range that shrank).

Only a name range gives a pattern: ``node{1:16}`` matches node17 once the range is
``node{1:8}``, but a VM written without a range (``login``) never matches anything
else, and ``node1`` never matches ``node10`` by prefix. Templates are never strays.

A stray is the file's own, as `cluster --destroy` judges VMs (cluster/ownership.py): it is in the
folder the file puts VMs of that pattern in, and carries no other file's owner mark. `--prune`
destroys only the strays that carry this file's mark (the file made them); one made by hand in
the folder is listed and left.
"""
from __future__ import annotations

import re

from vhpc_toolkit.cluster.ownership import owner_mark, target_folder, vm_owner
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
    """The file's VMs it no longer lists (read with ``config.extraConfig`` for the owner marks)."""
    mark = owner_mark(spec.path)
    folders: dict[str, set[str]] = {}    # pattern -> moids of the folders its VMs go to
    for pattern, vms in _patterns(spec).items():
        seen = folders.setdefault(pattern, set())
        for vm in {(vm.datacenter, vm.vm_folder, vm.template): vm for vm in vms}.values():
            try:
                seen.add(target_folder(inv, vm).moid)
            except VhpcError:     # the plan reports a missing datacenter or folder
                pass
    compiled = [(re.compile(p), moids) for p, moids in folders.items()]
    found = []
    for o in candidates(inv, spec):
        parent = getattr(o.get("parent"), "_moId", None)
        owner = vm_owner(o)
        if any(p.match(o.name) and parent in moids for p, moids in compiled) and owner in (None, mark):
            found.append(o)
    return sorted(found, key=lambda o: o.name)


def made_by_file(vm: Obj, spec: ClusterSpec) -> bool:
    """Whether the file's own `cluster --create` made ``vm`` (it carries the file's mark)."""
    return vm_owner(vm) == owner_mark(spec.path)


LEFT = "no owner mark of this file (not made by its cluster --create): --prune leaves it; destroy --vm removes it"
