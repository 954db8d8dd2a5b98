"""The one inventory read a cluster run plans from."""
from __future__ import annotations

from vhpc_toolkit.ops.portgroups import PROPS as NETWORK_PROPS
from vhpc_toolkit.ops.placement import PROPS as PLACEMENT_PROPS
from vhpc_toolkit.specs import compute, latency
from vhpc_toolkit.vsphere.inventory import Inventory, read_inventory, read_objects

VM_PROPS = sorted(set(compute.VM_PROPS) | set(latency.VM_PROPS) | {
    "config.template", "config.hardware.device", "config.firmware", "config.extraConfig", "snapshot",
    "guest.ipAddress", "guest.toolsRunningStatus", "environmentBrowser", "resourcePool", "config.bootOptions",
})
HOST_PROPS = sorted(set(PLACEMENT_PROPS["HostSystem"]) | {
    "parent", "config.pciPassthruInfo", "config.sharedPassthruGpuTypes", "config.network.vswitch",
    "config.network.portgroup", "config.network.pnic", "hardware.pciDevice",
})
DVS_PROPS = ["uuid", "summary.hostMember", "config.uplinkPortPolicy"]


def read_cluster_inventory(session, spec=None) -> Inventory:
    """Everything a cluster run plans from; with ``spec``, also the MTU of the distributed switches its
    _DVS_ lines give one (``config.maxMtu`` is a VMware switch's, not in the base type's read)."""
    props = {k: list(v) for k, v in PLACEMENT_PROPS.items()}
    props.update({k: list(v) for k, v in NETWORK_PROPS.items()})
    props["VirtualMachine"] = VM_PROPS
    props["HostSystem"] = HOST_PROPS
    props["DistributedVirtualSwitch"] = sorted(set(props.get("DistributedVirtualSwitch", [])) | set(DVS_PROPS))
    props["Folder"] = ["childType"]
    for kind in ("ClusterComputeResource", "ComputeResource"):
        props[kind] = sorted(set(props.get(kind, [])) | {"environmentBrowser"})
    props["Datacenter"] = sorted(set(props["Datacenter"]) | {"networkFolder"})
    inv = read_inventory(session, props)
    wanted = {sw.name for sw in (spec.dvs if spec is not None else []) if sw.mtu}
    switches = [o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch") if o.name in wanted]
    for moid, read in read_objects(session, [o.ref for o in switches], ["config.maxMtu"]).items():
        inv.objects[moid].props["config.maxMtu"] = read.get("config.maxMtu")
    return inv
