"""The inventory read a cluster run plans from.

Every VM of the inventory is read with a few light properties (name, template, host, power); the
full VM properties (devices, sizes, reservations...) only for the VMs the plan looks into: the
file's VMs and templates, and the powered-on VMs when the file asks for devices (they may hold
them). Reading every VM in full cost ~5 ms of client CPU per VM of the inventory (pyVmomi
deserialization), a minute for a 10,000-VM vCenter whatever the size of the file.
Calls: the container-view read (CreateContainerView, RetrievePropertiesEx + pages, DestroyView),
then one RetrievePropertiesEx (+ pages) for the VMs read in full, if any.
"""
from __future__ import annotations

from vhpc_toolkit.ops.networks import PROPS as NETWORK_PROPS
from vhpc_toolkit.ops.placement import PROPS as PLACEMENT_PROPS
from vhpc_toolkit.specs import compute, latency
from vhpc_toolkit.vsphere.inventory import PAGE_SIZE, Snapshot, read_inventory

VM_PROPS = sorted(set(compute.VM_PROPS) | set(latency.VM_PROPS) | {
    "config.template", "config.hardware.device", "config.firmware", "config.extraConfig", "snapshot",
    "guest.ipAddress", "guest.toolsRunningStatus", "environmentBrowser", "resourcePool",
})
LIGHT_VM_PROPS = ["config.template", "runtime.host", "runtime.powerState"]
HOST_PROPS = sorted(set(PLACEMENT_PROPS["HostSystem"]) | {
    "parent", "config.pciPassthruInfo", "config.sharedPassthruGpuTypes", "config.network.vswitch",
    "config.network.portgroup", "config.network.pnic", "hardware.pciDevice",
})
DVS_PROPS = ["uuid", "summary.hostMember", "config.uplinkPortPolicy"]


def read_cluster_inventory(session, spec=None) -> Snapshot:
    """The snapshot for planning ``spec`` (every VM in full when no spec is given)."""
    props = {k: list(v) for k, v in PLACEMENT_PROPS.items()}
    props.update({k: list(v) for k, v in NETWORK_PROPS.items()})
    props["VirtualMachine"] = VM_PROPS if spec is None else LIGHT_VM_PROPS
    props["HostSystem"] = HOST_PROPS
    props["DistributedVirtualSwitch"] = sorted(set(props.get("DistributedVirtualSwitch", [])) | set(DVS_PROPS))
    props["Folder"] = ["childType"]
    for kind in ("ClusterComputeResource", "ComputeResource"):
        props[kind] = sorted(set(props.get(kind, [])) | {"environmentBrowser"})
    props["Datacenter"] = sorted(set(props["Datacenter"]) | {"networkFolder"})
    snap = read_inventory(session, props)
    if spec is not None:
        read_in_full(session, snap, _looked_into(snap, spec))
    return snap


def _looked_into(snap: Snapshot, spec) -> list:
    names = {vm.name for vm in spec.vms} | {vm.template.rstrip("/").rsplit("/", 1)[-1]
                                            for vm in spec.vms if vm.template}
    devices = any(vm.device or vm.vgpu or vm.sriov_port_group or vm.pvrdma_port_group for vm in spec.vms)
    return [o for o in snap.of_type("VirtualMachine")
            if o.name in names or (devices and o.get("runtime.powerState") == "poweredOn")]


def read_in_full(session, snap: Snapshot, vms: list) -> None:
    """Add VM_PROPS to those VMs of the snapshot, in one paged RetrievePropertiesEx."""
    if not vms:
        return
    from pyVmomi import vim, vmodl

    pc = vmodl.query.PropertyCollector
    spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=o.ref) for o in vms],
                         propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=VM_PROPS)])
    collector = session.content.propertyCollector
    result = collector.RetrievePropertiesEx(specSet=[spec], options=pc.RetrieveOptions(maxObjects=PAGE_SIZE))
    while result is not None:
        for oc in result.objects:
            obj = snap.objects.get(oc.obj._moId)
            if obj is not None:
                obj.props.update({p.name: p.val for p in (oc.propSet or [])})
        if not result.token:
            break
        result = collector.ContinueRetrievePropertiesEx(token=result.token)
