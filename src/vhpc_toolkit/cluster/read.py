"""The one inventory read a cluster run plans from."""
from __future__ import annotations

from vhpc_toolkit.cluster.capacity import CLUSTER_PROPS, HOST_PROPS as CAPACITY_PROPS, VM_PROPS as CAPACITY_VM_PROPS
from vhpc_toolkit.ops.gpus import HOST_PROPS as GPU_PROPS
from vhpc_toolkit.ops.pvrdma_hosts import HOST_PROPS as PVRDMA_PROPS
from vhpc_toolkit.ops.portgroups import PROPS as NETWORK_PROPS
from vhpc_toolkit.ops.placement import PROPS as PLACEMENT_PROPS
from vhpc_toolkit.specs import compute, latency
from vhpc_toolkit.vsphere.hostnet import HOST_PROPS as NET_HOST_PROPS
from vhpc_toolkit.vsphere.inventory import Inventory, read_inventory

VM_PROPS = sorted(set(compute.VM_PROPS) | set(latency.VM_PROPS) | {
    "config.template", "config.hardware.device", "config.firmware", "config.extraConfig", "config.version",
    "snapshot", "guest.ipAddress", "guest.net", "guest.toolsRunningStatus", "environmentBrowser", "resourcePool",
    "datastore", *CAPACITY_VM_PROPS,
})
HOST_PROPS = sorted(set(PLACEMENT_PROPS["HostSystem"]) | set(GPU_PROPS) | set(NET_HOST_PROPS) | set(PVRDMA_PROPS) |
                    set(CAPACITY_PROPS) | {
    "parent", "config.pciPassthruInfo", "config.sharedPassthruGpuTypes", "hardware.pciDevice",
})
DVS_PROPS = ["uuid", "summary.hostMember", "summary.productInfo", "config.uplinkPortPolicy"]
PORTGROUP_PROPS = ["config.numPorts", "config.autoExpand", "config.type"]


def read_cluster_inventory(session) -> Inventory:
    props = {k: list(v) for k, v in PLACEMENT_PROPS.items()}
    props.update({k: list(v) for k, v in NETWORK_PROPS.items()})
    props["VirtualMachine"] = VM_PROPS
    props["HostSystem"] = HOST_PROPS
    props["DistributedVirtualSwitch"] = sorted(set(props.get("DistributedVirtualSwitch", [])) | set(DVS_PROPS))
    props["DistributedVirtualPortgroup"] = sorted(set(props.get("DistributedVirtualPortgroup", [])) | set(PORTGROUP_PROPS))
    props["Folder"] = ["childType"]
    for kind in ("ClusterComputeResource", "ComputeResource"):
        props[kind] = sorted(set(props.get(kind, [])) | {"environmentBrowser"})
    props["ClusterComputeResource"] = sorted(set(props["ClusterComputeResource"]) | set(CLUSTER_PROPS))
    props["Datacenter"] = sorted(set(props["Datacenter"]) | {"networkFolder"})
    return read_inventory(session, props)
