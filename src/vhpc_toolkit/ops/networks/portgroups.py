"""Port groups as the inventory knows them: standard (a Network) or distributed (a DVPG)."""
from __future__ import annotations

from vhpc_toolkit.errors import NotFound
from vhpc_toolkit.specs.devices.nic import PortGroupRef
from vhpc_toolkit.vsphere.inventory import Obj, Inventory

PROPS = {
    "Network": [],
    "DistributedVirtualPortgroup": ["key", "config.distributedVirtualSwitch"],
    "DistributedVirtualSwitch": ["uuid", "summary.hostMember"],
}


def portgroup_names_by_key(inv: Inventory) -> dict[str, str]:
    return {o.get("key"): o.name for o in inv.of_type("DistributedVirtualPortgroup")}


def member_problem(inv: Inventory, pg: PortGroupRef, host: Obj | None) -> str | None:
    """Why a VM on ``host`` cannot have an adapter on distributed port group ``pg`` (vSphere needs the
    VM's host to be a member of the port group's switch), or None."""
    if not pg.distributed or host is None:
        return None
    switch = next((o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
                   if o.get("uuid") == pg.dvs_uuid), None)
    if switch is None:
        return None
    members = {r._moId for r in switch.get("summary.hostMember") or []}
    if host.moid in members:
        return None
    names = sorted(inv.by_ref(r).name if inv.by_ref(r) else r._moId for r in switch.get("summary.hostMember") or [])
    return (f"host {host.name} is not a member of distributed switch {switch.name}, the switch of port group "
            f"{pg.name} (its member hosts: {', '.join(names) or 'none'}); add it with `dvs --create`")


def find_portgroup(inv: Inventory, name: str, datacenter: Obj | None = None,
                   dvs_name: str | None = None) -> PortGroupRef:
    """A port group by name; with ``dvs_name`` only that distributed switch's port groups."""
    if dvs_name:
        switch = inv.find(("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch"), dvs_name,
                           what="distributed switch", within=datacenter)
        pgs = [o for o in inv.of_type("DistributedVirtualPortgroup")
               if o.get("config.distributedVirtualSwitch") is not None
               and o.get("config.distributedVirtualSwitch")._moId == switch.moid]
        match = [o for o in pgs if o.name == name]
        if not match:
            offered = ", ".join(sorted(o.name for o in pgs)) or "none"
            raise NotFound(f"port group {name!r} not found on distributed switch {dvs_name} "
                           f"(it has: {offered})")
        pg = match[0]
        return PortGroupRef(name=name, network=pg.ref, dvs_uuid=switch.get("uuid"), portgroup_key=pg.get("key"))
    net = inv.find(("Network", "DistributedVirtualPortgroup"), name, what="port group", within=datacenter)
    if net.type == "DistributedVirtualPortgroup":
        switch = inv.by_ref(net.get("config.distributedVirtualSwitch"))
        return PortGroupRef(name=name, network=net.ref, dvs_uuid=switch.get("uuid") if switch else None,
                            portgroup_key=net.get("key"))
    return PortGroupRef(name=name, network=net.ref)
