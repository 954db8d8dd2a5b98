"""The inventory read a cluster run plans from.

Every VM of the inventory is read with a few light properties (name, parent, template, host,
power); the full VM properties (devices, sizes, reservations, guest...) only for the VMs the plan
looks into: the file's VMs and templates, the powered-on VMs when the file asks for devices (they
may hold them), and the VMs on fixed-size port groups (their adapters hold ports). Reading every
VM in full cost ~5 ms of client CPU per VM of the inventory (pyVmomi's decoding): a minute on a
10,000-VM vCenter, whatever the size of the file.
Calls: the container-view read (CreateContainerView, RetrievePropertiesEx + pages),
then one RetrievePropertiesEx (+ pages) for the VMs read in full.
"""
from __future__ import annotations

from vhpc_toolkit.cluster.placement.capacity import CLUSTER_PROPS, HOST_PROPS as CAPACITY_PROPS, VM_PROPS as CAPACITY_VM_PROPS
from vhpc_toolkit.cluster.ownership.strays import candidates
from vhpc_toolkit.vsphere.fields import MARK_PROPS
from vhpc_toolkit.cluster.cloning.copies import TEMPLATE_PROPS, is_copy_name
from vhpc_toolkit.ops.hosts.gpus import HOST_PROPS as GPU_PROPS
from vhpc_toolkit.ops.hosts.pvrdma import HOST_PROPS as PVRDMA_PROPS
from vhpc_toolkit.ops.networks.portgroups import PROPS as NETWORK_PROPS
from vhpc_toolkit.ops.vms.placement import PROPS as PLACEMENT_PROPS
from vhpc_toolkit.specs import compute, latency
from vhpc_toolkit.vsphere.hostnet import HOST_PROPS as NET_HOST_PROPS
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory, read_objects

VM_PROPS = sorted(set(compute.VM_PROPS) | set(latency.VM_PROPS) | {
    "config.template", "config.hardware.device", "config.firmware", "config.extraConfig", "config.version",
    "snapshot", "guest.ipAddress", "guest.net", "guest.toolsRunningStatus", "environmentBrowser", "resourcePool",
    "config.bootOptions",
    "datastore", *CAPACITY_VM_PROPS, *TEMPLATE_PROPS, "summary.storage.committed",
})
HOST_PROPS = sorted(set(PLACEMENT_PROPS["HostSystem"]) | set(GPU_PROPS) | set(NET_HOST_PROPS) | set(PVRDMA_PROPS) |
                    set(CAPACITY_PROPS) | set(MARK_PROPS) | {
    "parent", "config.pciPassthruInfo", "config.sharedPassthruGpuTypes", "hardware.pciDevice",
})
DVS_PROPS = ["uuid", "summary.hostMember", "summary.productInfo", "config.uplinkPortPolicy", "config.description",
             *MARK_PROPS]
PORTGROUP_PROPS = ["config.numPorts", "config.autoExpand", "config.type", "vm"]
LIGHT_VM_PROPS = ["config.template", "runtime.host", "runtime.powerState"]
DEVICE_KEYS = ("device", "vgpu", "sriov_port_group", "pvrdma_port_group", "gpu")


def read_cluster_inventory(session, spec=None) -> Inventory:
    """The inventory for planning ``spec`` (every VM read in full when no spec is given); with
    ``spec``, also the MTU of the distributed switches its _DVS_ lines give one (``config.maxMtu``
    is a VMware switch's, not in the base type's read)."""
    props = {k: list(v) for k, v in PLACEMENT_PROPS.items()}
    props.update({k: list(v) for k, v in NETWORK_PROPS.items()})
    props["VirtualMachine"] = VM_PROPS if spec is None else LIGHT_VM_PROPS
    props["HostSystem"] = HOST_PROPS
    props["DistributedVirtualSwitch"] = sorted(set(props.get("DistributedVirtualSwitch", [])) | set(DVS_PROPS))
    props["DistributedVirtualPortgroup"] = sorted(set(props.get("DistributedVirtualPortgroup", [])) | set(PORTGROUP_PROPS))
    props["Folder"] = ["childType"]
    props["Datastore"] = sorted(set(props.get("Datastore", [])) | {"summary.freeSpace"})   # cluster/planning/space.py
    for kind in ("ClusterComputeResource", "ComputeResource"):
        props[kind] = sorted(set(props.get(kind, [])) | {"environmentBrowser"})
    props["ClusterComputeResource"] = sorted(set(props["ClusterComputeResource"]) | set(CLUSTER_PROPS))
    props["Datacenter"] = sorted(set(props["Datacenter"]) | {"networkFolder"} | set(MARK_PROPS))
    inv = read_inventory(session, props)
    if spec is not None:
        read_in_full(session, inv, _looked_into(inv, spec))
    wanted = {sw.name for sw in (spec.dvs if spec is not None else []) if sw.mtu}
    switches = [o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch") if o.name in wanted]
    for moid, read in read_objects(session, [o.ref for o in switches], ["config.maxMtu"]).items():
        inv.objects[moid].props["config.maxMtu"] = read.get("config.maxMtu")
    return inv


def _looked_into(inv: Inventory, spec) -> list[Obj]:
    templates = {vm.template.rstrip("/").rsplit("/", 1)[-1] for vm in spec.vms if vm.template}
    names = {vm.name for vm in spec.vms} | templates
    devices = any(getattr(vm, key, None) for vm in spec.vms for key in DEVICE_KEYS)
    # The planner counts what running VMs hold (devices, memory reservations) for the VMs it places.
    devices = devices or any(vm.requests_placement or vm.hugepages_1g for vm in spec.vms)
    on_fixed = {ref._moId for pg in inv.of_type("DistributedVirtualPortgroup")
                if pg.get("config.autoExpand") is False for ref in pg.get("vm") or []}
    # VMs of the file's naming patterns: their owner marks say which are strays (cluster/ownership/strays.py).
    patterned = {o.moid for o in candidates(inv, spec)}
    return [o for o in inv.of_type("VirtualMachine")
            if o.name in names or o.moid in on_fixed or o.moid in patterned or is_copy_name(o.name, templates) or
            (devices and o.get("runtime.powerState") == "poweredOn")]


def read_in_full(session, inv: Inventory, vms: list[Obj], props: list[str] = VM_PROPS) -> None:
    """Add ``props`` (VM_PROPS by default) to those VMs of the inventory, in one paged read."""
    for moid, full in read_objects(session, [o.ref for o in vms], props).items():
        if moid in inv.objects:
            inv.objects[moid].props.update(full.props)


