"""Who uses a switch: what destroying it would cut off.

A switch carries VMkernel adapters (vmk0 is the host's management address: destroying
its switch makes the host unreachable) and VM network adapters (powered on or not).
ESXi and vCenter refuse to remove a switch or port group that adapters use
(ResourceInUse), host by host and halfway; so `svs/dvs --destroy` refuse such a switch on
every host before the first change and say what to move off it (`svs --destroy --force`
destroys it where nothing uses it and leaves it where something does); `cluster --destroy`
leaves it. Pure code over one inventory read.
"""
from __future__ import annotations

from vhpc_toolkit.vsphere.inventory import Inventory, Obj

HOST_PROPS = ["config.network.vnic", "vm"]
VM_PROPS = ["network", "runtime.host"]


def _network_names(inv: Inventory, refs) -> set[str]:
    return {n.name for n in (inv.by_ref(r) for r in refs or []) if n is not None}


def svs_users(inv: Inventory, host: Obj, portgroups: list[str]) -> list[str]:
    """The adapters on a standard switch's port groups (``portgroups``) of one host."""
    pgs = set(portgroups)
    users = [f"VMkernel adapter {v.device} (port group {v.portgroup})"
             for v in host.get("config.network.vnic") or [] if v.portgroup in pgs]
    for vm in inv.of_type("VirtualMachine"):
        host_ref = vm.get("runtime.host")
        if host_ref is None or host_ref._moId != host.moid:
            continue
        on = sorted(_network_names(inv, vm.get("network")) & pgs)
        if on:
            users.append(f"VM {vm.name} (port group {', '.join(on)})")
    return users


def dvs_users(inv: Inventory, switch: Obj) -> list[str]:
    """The adapters on a distributed switch: VMs on its port groups, VMkernel adapters on its ports."""
    pgs = {o.moid for o in inv.of_type("DistributedVirtualPortgroup")
           if o.get("config.distributedVirtualSwitch") is not None
           and o.get("config.distributedVirtualSwitch")._moId == switch.moid}
    users = []
    uuid = switch.get("uuid")
    for host in inv.of_type("HostSystem"):
        for v in host.get("config.network.vnic") or []:
            port = getattr(getattr(v, "spec", None), "distributedVirtualPort", None)
            if port is not None and uuid and port.switchUuid == uuid:
                users.append(f"VMkernel adapter {v.device} of {host.name}")
    for vm in inv.of_type("VirtualMachine"):
        on = sorted(inv.by_ref(r).name for r in vm.get("network") or [] if r._moId in pgs and inv.by_ref(r))
        if on:
            users.append(f"VM {vm.name} (port group {', '.join(on)})")
    return users


MOVE_OFF = ("move them off first (a VM adapter: `network --remove --vm VM --port_group PG`; a VMkernel adapter: "
            "the vSphere Client or `esxcli network ip interface remove`; vmk0 carries the host's management address)")


def in_use_problem(kind: str, name: str, users: dict[str, list[str]]) -> str:
    """One line: what uses switch ``name``, per host (or "" for a DVS), and what to do about it."""
    parts = [(f"{where}: " if where else "") + ", ".join(u) for where, u in users.items() if u]
    where_free = "; or --force destroys it on the hosts where nothing uses it" if kind == "standard" else ""
    return (f"{kind} switch {name} is in use ({'; '.join(parts)}): vSphere does not remove a switch that adapters "
            f"use; {MOVE_OFF}{where_free}")
