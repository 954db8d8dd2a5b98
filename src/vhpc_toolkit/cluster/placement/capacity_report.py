"""`view --capacity`: what each host can still give, before anyone writes a cluster file.

Per host: the passthrough GPUs that are free and who holds the others, the room for vGPUs on each
physical GPU in shared direct mode (per profile the host offers for its board), the free SR-IOV
virtual functions of each physical function, and the memory no powered-on VM reserves. It is the
planner's own account (cluster/placement/capacity.py), so what it calls free is what `cluster --create`
would place on.

Calls: the container-view read (hosts in full, VMs light), then one read of the powered-on VMs'
devices and reservations (they are what holds GPUs, functions and memory).
"""
from __future__ import annotations

from typing import Any

from vhpc_toolkit.cluster.placement.capacity import HOST_PROPS, VM_PROPS, HostCapacity, read_capacities
from vhpc_toolkit.cluster.planning.read import LIGHT_VM_PROPS, read_in_full
from vhpc_toolkit.ops.hosts.gpus import GpuState
from vhpc_toolkit.specs.devices.vgpu_profiles import parse_profile
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory

GB = 1024


def read_capacity(session) -> Inventory:
    """The inventory the report needs: hosts in full, and the powered-on VMs' devices."""
    inv = read_inventory(session, {"HostSystem": HOST_PROPS, "VirtualMachine": LIGHT_VM_PROPS,
                                   "ClusterComputeResource": [], "ComputeResource": []})
    read_in_full(session, inv, [o for o in inv.of_type("VirtualMachine") if o.get("runtime.powerState") == "poweredOn"],
                 VM_PROPS)
    return inv


def capacity_document(inv: Inventory, hosts: list[Obj] | None = None) -> dict[str, Any]:
    """The JSON document of ``view --capacity`` (docs/schemas/capacity.json) for ``hosts`` (all by default)."""
    hosts = sorted(inv.of_type("HostSystem") if hosts is None else hosts, key=lambda h: h.name)
    caps = read_capacities(inv, hosts)
    docs = [_host(inv, h, caps[h.moid]) for h in hosts]
    return {"hosts": docs, "totals": {
        "free_gpus": sum(d["free_gpus"] for d in docs if d["available"]),
        "free_virtual_functions": sum(f["free"] for d in docs if d["available"] for f in d["sriov"]),
        "unreserved_memory_gb": round(sum(d["memory"]["unreserved_gb"] for d in docs if d["available"]), 1)}}


def _host(inv: Inventory, host: Obj, cap: HostCapacity) -> dict[str, Any]:
    cluster = inv.parent(host)
    datacenter = inv.ancestor(host, "Datacenter")
    gpus = [dict(g.to_dict(), model=g.model, held_by=cap.held.get(g.id)) for g in cap.gpus]
    return {
        "name": host.name, "datacenter": datacenter.name if datacenter else None,
        "cluster": cluster.name if cluster is not None and cluster.type == "ClusterComputeResource" else None,
        "available": cap.problem is None, "problem": cap.problem, "running_vms": cap.vms,
        "memory": {"total_gb": round(cap.memory_mb / GB, 1), "reserved_gb": round(cap.reserved_mb / GB, 1),
                   "unreserved_gb": round(cap.free_memory_mb() / GB, 1)},
        "gpus": gpus, "free_gpus": sum(1 for g in gpus if g["held_by"] is None),
        "vgpu_gpus": [_vgpu_gpu(g, host) for g, _, _ in cap.ledger.slots.values()],
        "sriov": [{"pf": pf, "virtual_functions": total, "in_use": used, "free": max(total - used, 0)}
                  for pf, (total, used) in sorted(cap.vfs.items())],
    }


def _vgpu_gpu(gpu: GpuState, host: Obj) -> dict[str, Any]:
    """A physical GPU in shared direct mode: what it runs and how many more of each profile it takes."""
    offered = [q for q in host.get("config.sharedPassthruGpuTypes") or []
               if parse_profile(q) and parse_profile(q).board == gpu.model]
    return {"id": gpu.pci_id, "name": gpu.name, "model": gpu.model, "frame_buffer_gb": gpu.frame_buffer_mb / GB,
            "sharing": gpu.sharing, "vgpus": list(gpu.vgpu_profiles), "vms": list(gpu.vgpu_vms),
            "room": {q: gpu.free(q) for q in offered}}
