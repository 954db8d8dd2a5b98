"""Pure parts of issue 12's toolkit side: the snapshot of linked clones, the guest's adapter order,
and how a VM read back after its tasks is compared with what was asked."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from pyVmomi import vim

from vhpc_toolkit.cluster.planning.plan import CREATE, RECONFIGURE, VMPlan
from vhpc_toolkit.cluster.applying.verify import devices_of, differences
from vhpc_toolkit.clusterfile import VMSpec
from vhpc_toolkit.ops.edits import reconfigure
from vhpc_toolkit.ops.vms.linked import current_snapshot, linked_note, linked_problem
from vhpc_toolkit.results import CHANGED, FAILED, TargetResult
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.customization import GuestNetwork, customization_spec
from vhpc_toolkit.specs.devices.nic import guest_order, order_known
from vhpc_toolkit.vsphere.inventory import Inventory, Obj


def obj(moid, type_="VirtualMachine", **props):
    ref = getattr(vim, type_)(moid)
    return Obj(ref=ref, type=type_, props={"name": moid, **props})


def snapshot_info(*names):
    tree = [vim.vm.SnapshotTree(name=n, snapshot=vim.vm.Snapshot(f"snap-{i}"), childSnapshotList=[])
            for i, n in enumerate(names)]
    return vim.vm.SnapshotInfo(rootSnapshotList=tree, currentSnapshot=tree[-1].snapshot if tree else None)


# --- linked clones ------------------------------------------------------------------------------

def test_a_template_with_a_snapshot_gives_linked_clones_from_it():
    tpl = obj("tpl", **{"config.template": True, "snapshot": snapshot_info("base")})
    assert linked_problem(tpl) is None
    assert current_snapshot(tpl)[1] == "base" and linked_note(tpl) == "from snapshot base of tpl"


def test_a_template_without_snapshot_is_refused_with_the_fix():
    problem = linked_problem(obj("tpl", **{"config.template": True}))
    assert "template tpl has no snapshot" in problem
    assert "govc vm.markasvm" in problem and "govc snapshot.create -vm tpl" in problem
    assert "govc vm.markastemplate tpl" in problem


def test_a_vm_that_is_not_a_template_may_be_snapshotted():
    vm = obj("src", **{"config.template": False})
    assert linked_problem(vm) is None
    assert "is taken first" in linked_note(vm)


# --- the guest's adapter order --------------------------------------------------------------------

def nic(cls, key, slot=None, mac=None):
    d = cls(key=key, macAddress=mac)
    if slot is not None:
        d.slotInfo = vim.vm.device.VirtualDevice.PciBusSlotInfo(pciSlotNumber=slot)
    return d


def test_guest_order_is_pci_slot_order_with_sriov_last():
    sriov = nic(vim.vm.device.VirtualSriovEthernetCard, 4001, 3232)
    first, second = nic(vim.vm.device.VirtualVmxnet3, 4002, 192), nic(vim.vm.device.VirtualVmxnet3, 4000, 224)
    disk = vim.vm.device.VirtualDisk(key=2000)
    assert guest_order([sriov, second, disk, first]) == [first, second, sriov]
    assert order_known([first, second, sriov])
    # Without slots (vSphere assigns them at the first power-on): device key order, SR-IOV still last.
    a, b = nic(vim.vm.device.VirtualVmxnet3, 4002), nic(vim.vm.device.VirtualVmxnet3Vrdma, 4003)
    s = nic(vim.vm.device.VirtualSriovEthernetCard, 4001)
    assert guest_order([s, b, a]) == [a, b, s] and not order_known([a, b, s])


def test_customization_carries_mac_addresses_in_order():
    net = GuestNetwork(hostname="n", ip="10.0.0.5", netmask="255.255.255.0")
    spec = customization_spec(net, adapter_count=3, adapter_index=1, macs=["m0", "m1", "m2"])
    assert [m.macAddress for m in spec.nicSettingMap] == ["m0", "m1", "m2"]
    assert spec.nicSettingMap[1].adapter.ip.ipAddress == "10.0.0.5"
    assert all(m.macAddress is None for m in customization_spec(net, 2, 0).nicSettingMap)


# --- read back: per-VM commands ---------------------------------------------------------------------

def planned_with(build, vm):
    result = TargetResult(vm.name, CHANGED)
    return reconfigure.Planned([(vm, object(), result)], Inventory({}, {"VirtualMachine": ["x"]}), build), result


@pytest.mark.parametrize("left,status,detail", [
    ([], CHANGED, ""),
    ([Change("cpu", 2, 4)], FAILED, "does not have it: cpu: 2 -> 4 still to change"),
])
def test_a_vm_that_does_not_hold_what_was_asked_fails(monkeypatch, left, status, detail):
    vm = obj("vm-1")
    monkeypatch.setattr(reconfigure, "read_objects", lambda s, refs, paths: {"vm-1": obj("vm-1")})
    planned, result = planned_with(lambda spec, o, host: left, vm)
    reconfigure.check_applied(None, planned)
    assert result.status == status and detail in result.detail


def test_a_vm_gone_after_its_task_fails(monkeypatch):
    monkeypatch.setattr(reconfigure, "read_objects", lambda s, refs, paths: {})
    planned, result = planned_with(lambda spec, o, host: [], obj("vm-1"))
    reconfigure.check_applied(None, planned)
    assert result.status == FAILED and "gone" in result.detail


# --- read back: a cluster's new VM -----------------------------------------------------------------

def cluster_vm(**props):
    base = {"config.hardware.numCPU": 4, "config.hardware.memoryMB": 8192,
            "config.cpuAllocation": vim.ResourceAllocationInfo(reservation=0, shares=vim.SharesInfo(level="normal")),
            "config.memoryAllocation": vim.ResourceAllocationInfo(reservation=0, shares=vim.SharesInfo(level="normal")),
            "config.memoryReservationLockedToMax": False, "runtime.powerState": "poweredOn",
            "runtime.host": vim.HostSystem("host-5"), "config.template": False,
            "config.hardware.device": [vim.vm.device.VirtualVmxnet3(
                key=4000, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="pg"))]}
    base.update(props)
    return obj("vm-9", **base)


def new_vm_plan(**spec):
    host = obj("host-5", "HostSystem", **{"summary.hardware.cpuMhz": 2000})
    inv = Inventory({"host-5": host, "host-6": obj("host-6", "HostSystem")})
    plan = VMPlan(VMSpec(name="n1", template="t", cpu=4, memory=8, port_group="pg", **spec), action=CREATE,
                  placement=SimpleNamespace(host=host))
    return plan, inv


def test_a_new_vm_as_asked_has_no_differences():
    plan, inv = new_vm_plan()
    assert differences(plan, cluster_vm(), inv, {}, powered_on=True) == []


def test_a_new_vm_that_vcenter_did_not_configure_differs():
    plan, inv = new_vm_plan(vgpu="grid_v100-8q", sriov_port_group="sr", pvrdma_port_group="rd")
    vm = cluster_vm(**{"config.hardware.numCPU": 2, "runtime.powerState": "poweredOff",
                       "runtime.host": vim.HostSystem("host-6"),
                       "config.hardware.device": [vim.vm.device.VirtualVmxnet3(
                           key=4000, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="x"))]})
    got = "\n".join(differences(plan, vm, inv, {}, powered_on=True))
    for want in ("runs on host-6 (asked host-5)", "is poweredOff (asked poweredOn)", "cpu is 2 (asked 4)",
                 "has no vGPU grid_v100-8q", "has no SR-IOV adapter on sr", "has no PVRDMA adapter on rd",
                 "has no adapter on pg (asked; it has x)"):
        assert want in got, got


def test_a_reconfigured_vm_is_checked_for_what_the_run_changed():
    plan, inv = new_vm_plan(device=["0000:3b:00.0"])   # a GPU: all memory reserved
    plan.action = RECONFIGURE
    reserved = {"config.memoryReservationLockedToMax": True, "config.memoryAllocation": vim.ResourceAllocationInfo(
        reservation=8192, shares=vim.SharesInfo(level="normal"))}
    assert differences(plan, cluster_vm(**reserved), inv, {}, powered_on=False) == []   # devices: not the run's
    assert differences(plan, cluster_vm(**reserved, **{"config.hardware.memoryMB": 4096}), inv, {}, False) == [
        "memory_mb is 4096 (asked 8192)"]


def test_devices_as_vcenter_holds_them():
    dvs = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
        port=vim.dvs.PortConnection(portgroupKey="dvpg-1"))
    vm = cluster_vm(**{"config.hardware.device": [
        vim.vm.device.VirtualPCIPassthrough(key=1, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(
            vgpu="grid_v100-4q")),
        vim.vm.device.VirtualVmxnet3Vrdma(key=2, backing=dvs)]})
    assert devices_of(vm, {"dvpg-1": "rdma-pg"}) == ["vgpu grid_v100-4q", "pvrdma rdma-pg"]
