"""VMs that carry a cluster file's naming pattern but are no longer in it (a range that shrank).

Only a name range gives a pattern: ``node{1:16}`` matches node17 once the range is
``node{1:8}``, but a VM written without a range (``login``) never matches anything
else, and ``node1`` never matches ``node10`` by prefix. Templates are never strays.
"""
from __future__ import annotations

import re

from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.vsphere.inventory import Inventory, Obj


def strays(inv: Inventory, spec: ClusterSpec) -> list[Obj]:
    names = {vm.name for vm in spec.vms}
    patterns = [re.compile(p) for p in dict.fromkeys(vm.pattern for vm in spec.vms if vm.pattern)]
    if not patterns:
        return []
    found = [o for o in inv.of_type("VirtualMachine")
             if o.name not in names and not o.get("config.template") and any(p.match(o.name) for p in patterns)]
    return sorted(found, key=lambda o: o.name)
