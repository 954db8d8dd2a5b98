"""Where a new VM goes: datacenter, folder, cluster, host, datastore, resource pool.

Defaults follow the original toolkit: the first datacenter, its VM folder, the
first cluster, the first host of that cluster, the template's datastore, the
cluster's root resource pool. Every name resolves through the snapshot.
"""
from __future__ import annotations

from dataclasses import dataclass

from vhpc_toolkit.errors import NotFound, VhpcError
from vhpc_toolkit.vsphere.inventory import Obj, Inventory

# What a placement needs from the inventory, per type.
PROPS = {
    "Datacenter": ["vmFolder"],
    "ClusterComputeResource": ["resourcePool", "host"],
    "ComputeResource": ["resourcePool", "host"],
    "HostSystem": ["summary.hardware.cpuMhz", "datastore", "runtime.connectionState", "runtime.inMaintenanceMode"],
    "Datastore": [],
    "ResourcePool": [],
}


@dataclass(frozen=True)
class Placement:
    datacenter: Obj
    folder: Obj | object   # Obj, or a bare reference when the folder came from vmFolder
    cluster: Obj | None
    host: Obj
    datastore: Obj | None  # None: stay on the template's datastore
    pool: object           # resource pool reference


def _first(objs: list[Obj]) -> Obj | None:
    return sorted(objs, key=lambda o: o.name)[0] if objs else None


def place(inv: Inventory, template: Obj | None = None, datacenter: str | None = None,
          vm_folder: str | None = None, cluster: str | None = None, host: str | None = None,
          datastore: str | None = None, resource_pool: str | None = None) -> Placement:
    if datacenter:
        dc = inv.find("Datacenter", datacenter, what="datacenter")
    elif template is not None and inv.ancestor(template, "Datacenter") is not None:
        dc = inv.ancestor(template, "Datacenter")
    else:
        dc = _first(inv.of_type("Datacenter"))
        if dc is None:
            raise NotFound("the inventory has no datacenter")

    folder = inv.find("Folder", vm_folder, what="VM folder", within=dc) if vm_folder else \
        (inv.by_ref(dc.get("vmFolder")) or dc.get("vmFolder"))

    host_obj = inv.find("HostSystem", host, what="host", within=dc) if host else None
    if cluster:
        cl = inv.find(("ClusterComputeResource", "ComputeResource"), cluster, what="cluster", within=dc)
    elif host_obj is not None:
        cl = inv.parent(host_obj)
    else:
        cl = _first([c for c in inv.of_type("ClusterComputeResource") if inv.is_under(c, dc)])
    if cl is None:
        raise NotFound(f"datacenter {dc.name} has no cluster; give --cluster or --host")
    members = {ref._moId for ref in cl.get("host") or []}
    if host_obj is None:
        host_obj = _first([h for h in inv.of_type("HostSystem") if h.moid in members])
        if host_obj is None:
            raise NotFound(f"cluster {cl.name} has no host")
    elif host_obj.moid not in members:
        raise NotFound(f"host {host_obj.name} is not in cluster {cl.name}")
    elif host_obj.get("runtime.inMaintenanceMode"):
        # vCenter powers on, clones and moves no VM onto a host in maintenance mode (InvalidState).
        raise VhpcError(f"host {host_obj.name} is in maintenance mode: it takes no new VMs (exit maintenance "
                        "mode first, or give another host)")

    ds = inv.find("Datastore", datastore, what="datastore", within=dc) if datastore else None
    if ds is not None:
        mounted = {ref._moId for ref in host_obj.get("datastore") or []}
        if mounted and ds.moid not in mounted:
            raise NotFound(f"datastore {ds.name} is not mounted on host {host_obj.name}")

    if resource_pool:
        pool = inv.find("ResourcePool", resource_pool, what="resource pool", within=cl).ref
    else:
        pool = cl.get("resourcePool")
    return Placement(datacenter=dc, folder=folder, cluster=cl, host=host_obj, datastore=ds, pool=pool)


def ref_of(thing):
    """The managed-object reference of an Obj or of a bare reference."""
    return thing.ref if isinstance(thing, Obj) else thing
