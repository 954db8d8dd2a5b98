"""The lab's templates and adapters as vSphere has them (sim/templates.go, sim/nics.go), driven with
pyVmomi directly (not the toolkit): immutable templates, MarkAsTemplate / MarkAsVirtualMachine, clone to a
template, linked clones from a snapshot, a clone's own MAC addresses, customization in PCI slot order.

Every VM and template made here is destroyed afterwards: the lab is shared by the session.
"""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from pyVmomi import vim, vmodl

from vhpc_toolkit.errors import TaskFailed
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task, wait_for_tasks
from vhpc_toolkit.vsphere.watch import Watch

HOST = "vhpc-esx-03.hpc.vmware.com"
OTHER_HOST = "vhpc-esx-04.hpc.vmware.com"
PF = "0000:af:00.0"
NOT_SUPPORTED = "The operation is not supported on the object."


@pytest.fixture(scope="module")
def where(session):
    inv = read_inventory(session, {"VirtualMachine": ["environmentBrowser", "snapshot"], "HostSystem": [],
                                    "ClusterComputeResource": ["resourcePool"], "Datacenter": ["vmFolder"]})
    tmpl = inv.find("VirtualMachine", "vhpc_clone")
    host = inv.find("HostSystem", HOST).ref
    return SimpleNamespace(tmpl=tmpl.ref, snapshot=tmpl.get("snapshot"), host=host,
                           other=inv.find("HostSystem", OTHER_HOST).ref,
                           target=tmpl.get("environmentBrowser").QueryConfigTarget(host=host),
                           folder=inv.find("Datacenter", "HPC_Datacenter").get("vmFolder"),
                           pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"),
                           empty_pool=inv.find("ClusterComputeResource", "HPC_Cluster").get("resourcePool"))


@pytest.fixture
def made(session):
    vms = []
    yield vms
    on = [vm for vm in vms if vm.runtime.powerState == "poweredOn"]
    wait_for_tasks(session, [vm.PowerOffVM_Task() for vm in on])
    outcomes = wait_for_tasks(session, [vm.Destroy_Task() for vm in vms])
    assert all(o.ok for o in outcomes.values()), [o.error for o in outcomes.values()]


def clone(session, where, made, config=None, **spec):
    """A clone of the template on HOST (small); returns the VM."""
    config = config or vim.vm.ConfigSpec()
    config.memoryMB = config.memoryMB or 512
    location = vim.vm.RelocateSpec(pool=where.pool, host=where.host)
    for key in ("diskMoveType",):
        if key in spec:
            setattr(location, key, spec.pop(key))
    task = where.tmpl.CloneVM_Task(folder=where.folder, name=f"lab-tpl-{uuid.uuid4().hex[:8]}",
                                   spec=vim.vm.CloneSpec(location=location, config=config, **spec))
    try:
        vm = wait_for_task(session, task)
    finally:
        if task.info.result is not None:
            made.append(task.info.result)
    return vm


def task_fault(session, task):
    got = wait_for_tasks(session, [task])[task._moId]
    assert not got.ok, "the task succeeded"
    return task.info.error


def vmxnet3_on(pg, key=-300):
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualVmxnet3(
        key=key, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=pg)))


def sriov_adapter(where, pg="vHPC-PG-VMNetwork"):
    info = next(p for p in where.target.sriov if p.pciDevice.id == PF)
    dev = info.pciDevice
    pf = vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(
        id=dev.id, deviceId=format(dev.deviceId & 0xFFFF, "x"), systemId=info.systemId, vendorId=dev.vendorId,
        deviceName=dev.deviceName)
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualSriovEthernetCard(
        key=-301, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=pg),
        sriovBacking=vim.vm.device.VirtualSriovEthernetCard.SriovBackingInfo(physicalFunctionBacking=pf)))


def cards(vm):
    """The VM's adapters in PCI slot order."""
    nics = [d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    return sorted(nics, key=lambda d: d.slotInfo.pciSlotNumber)


# --- templates ----------------------------------------------------------------------------------

def test_the_template_carries_one_snapshot(where):
    snap = where.snapshot
    assert snap is not None and snap.currentSnapshot is not None
    assert [s.name for s in snap.rootSnapshotList] == ["linked-clone-base"]


def test_a_template_is_immutable(session, where):
    fault = task_fault(session, where.tmpl.CreateSnapshot_Task(name="x", memory=False, quiesce=False))
    assert isinstance(fault, vmodl.fault.NotSupported) and NOT_SUPPORTED in fault.msg and "vhpc_clone" in fault.msg
    fault = task_fault(session, where.tmpl.ReconfigVM_Task(spec=vim.vm.ConfigSpec(numCPUs=8)))
    assert isinstance(fault, vmodl.fault.NotSupported) and NOT_SUPPORTED in fault.msg
    assert where.tmpl.config.hardware.numCPU == 2
    assert len(where.tmpl.snapshot.rootSnapshotList) == 1 and not where.tmpl.snapshot.rootSnapshotList[0].childSnapshotList
    # The annotation may change (vCenter allows name and annotation).
    old = where.tmpl.config.annotation
    wait_for_task(session, where.tmpl.ReconfigVM_Task(spec=vim.vm.ConfigSpec(annotation="note")))
    wait_for_task(session, where.tmpl.ReconfigVM_Task(spec=vim.vm.ConfigSpec(annotation=old)))


def test_mark_as_template_and_back(session, where, made):
    vm = clone(session, where, made, powerOn=True)
    with pytest.raises(vim.fault.InvalidPowerState):
        vm.MarkAsTemplate()
    wait_for_task(session, vm.PowerOffVM_Task())
    vm.MarkAsTemplate()
    assert vm.config.template is True and vm.resourcePool is None
    assert vm not in where.pool.vm
    with pytest.raises(vim.fault.InvalidState):
        vm.MarkAsTemplate()
    with pytest.raises(vmodl.fault.InvalidArgument):   # the host is not in HPC_Cluster
        vm.MarkAsVirtualMachine(pool=where.empty_pool, host=where.other)
    vm.MarkAsVirtualMachine(pool=where.pool, host=where.other)
    assert vm.config.template is False and vm.resourcePool == where.pool and vm.runtime.host == where.other
    assert vm in where.pool.vm
    with pytest.raises(vim.fault.InvalidState):
        vm.MarkAsVirtualMachine(pool=where.pool)
    wait_for_task(session, vm.PowerOnVM_Task())


def test_clone_to_a_template(session, where, made):
    tpl = clone(session, where, made, config=vim.vm.ConfigSpec(numCPUs=4), template=True, powerOn=True)
    assert tpl.config.template is True and tpl.config.hardware.numCPU == 4
    assert tpl.runtime.powerState == "poweredOff" and tpl.resourcePool is None
    # Without a snapshot it cannot give linked clones, and it cannot be snapshotted.
    with pytest.raises(TaskFailed, match="needs spec.snapshot"):
        wait_for_task(session, tpl.CloneVM_Task(folder=where.folder, name=f"lab-tpl-{uuid.uuid4().hex[:8]}",
                                                spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(
                                                    pool=where.pool, diskMoveType="createNewChildDiskBacking"))))
    assert isinstance(task_fault(session, tpl.CreateSnapshot_Task(name="s", memory=False, quiesce=False)),
                      vmodl.fault.NotSupported)


def test_linked_clones_start_from_a_snapshot_of_the_source(session, where, made):
    with pytest.raises(TaskFailed, match="needs spec.snapshot"):
        clone(session, where, made, diskMoveType="createNewChildDiskBacking")
    vm = clone(session, where, made, diskMoveType="createNewChildDiskBacking", snapshot=where.snapshot.currentSnapshot)
    assert vm.config.template is False
    other = wait_for_task(session, vm.CreateSnapshot_Task(name="s", memory=False, quiesce=False))
    with pytest.raises(TaskFailed, match="is not a snapshot of VM vhpc_clone"):
        clone(session, where, made, diskMoveType="createNewChildDiskBacking", snapshot=other)


# --- adapters ----------------------------------------------------------------------------------

def test_every_clone_gets_its_own_mac_addresses(session, where, made):
    template_mac = cards(where.tmpl)[0].macAddress
    vms = [clone(session, where, made) for _ in range(2)]
    macs = [c.macAddress for vm in vms for c in cards(vm)]
    assert len(set(macs)) == 2 and template_mac not in macs
    assert all(m.startswith("00:50:56:80:") for m in macs)
    assert all(c.addressType == "assigned" for vm in vms for c in cards(vm))
    assert cards(where.tmpl)[0].macAddress == template_mac


def test_customization_maps_adapters_in_pci_slot_order(session, where, made):
    # The SR-IOV adapter is first in the spec, the second VMXNET3 last: the guest sees the VMXNET3s first.
    config = vim.vm.ConfigSpec(memoryReservationLockedToMax=True,
                               deviceChange=[sriov_adapter(where), vmxnet3_on("VM Network")])
    vm = clone(session, where, made, config=config)
    nics = cards(vm)
    assert [type(c).__name__ for c in nics] == ["vim.vm.device.VirtualVmxnet3", "vim.vm.device.VirtualVmxnet3",
                                                "vim.vm.device.VirtualSriovEthernetCard"]
    assert [n.network for n in vm.guest.net] == ["vHPC-PG-VMNetwork", "VM Network", "vHPC-PG-VMNetwork"]
    assert [n.macAddress for n in vm.guest.net] == [c.macAddress for c in nics]

    c = vim.vm.customization

    def spec(*maps):
        return c.Specification(identity=c.LinuxPrep(hostName=c.FixedName(name="slots"), domain="lab"),
                               globalIPSettings=c.GlobalIPSettings(), nicSettingMap=list(maps))

    def fixed(ip, mac=None):
        return c.AdapterMapping(macAddress=mac, adapter=c.IPSettings(ip=c.FixedIp(ipAddress=ip),
                                                                     subnetMask="255.255.255.0"))

    fault = task_fault(session, vm.CustomizeVM_Task(spec=spec(fixed("10.1.0.1"), fixed("10.2.0.1"))))
    assert isinstance(fault, vim.fault.NicSettingMismatch)
    assert fault.numberOfNicsInSpec == 2 and fault.numberOfNicsInVM == 3
    fault = task_fault(session, vm.CustomizeVM_Task(spec=spec(
        fixed("10.1.0.1", nics[2].macAddress), fixed("10.2.0.1"), fixed("10.3.0.1", nics[0].macAddress))))
    assert isinstance(fault, vmodl.fault.InvalidArgument) and "MAC address mismatch" in fault.msg
    wait_for_task(session, vm.CustomizeVM_Task(spec=spec(
        fixed("10.1.0.1", nics[0].macAddress), fixed("10.2.0.1"), fixed("10.3.0.1", nics[2].macAddress))))
    wait_for_task(session, vm.PowerOnVM_Task())
    with Watch(session) as watch:   # until the guest reports its customized addresses
        watch.listed([vm], ["guest.ipAddress"])
        watch.until(lambda: watch.values.get(vm._moId, {}).get("guest.ipAddress") == "10.1.0.1", 60)
    by_mac = {n.macAddress: list(n.ipAddress or []) for n in vm.guest.net}
    assert by_mac == {nics[0].macAddress: ["10.1.0.1"], nics[1].macAddress: ["10.2.0.1"],
                      nics[2].macAddress: ["10.3.0.1"]}
