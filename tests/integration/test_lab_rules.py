"""The lab enforces what vSphere enforces (sim/rules.go), checked with pyVmomi directly (not the toolkit).

Every VM made here is destroyed, and every switch turned off through /debug/* is turned back on:
the lab is shared by the whole test session.
"""
from __future__ import annotations

import json
import ssl
import urllib.request
import uuid
from types import SimpleNamespace

import pytest
from pyVmomi import vim, vmodl

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task, wait_for_tasks

HOST = "vhpc-esx-08.hpc.vmware.com"   # no other test keeps VMs powered on there
GPU, GPU2, PF = "0000:3b:00.0", "0000:d8:00.0", "0000:af:00.0"
MEMORY_MB = 512                      # small VMs


@pytest.fixture(scope="module")
def where(session):
    """Template, datacenter, resource pool, host, and what the host offers (QueryConfigTarget)."""
    inv = read_inventory(session, {"VirtualMachine": ["environmentBrowser"], "HostSystem": [],
                                    "ClusterComputeResource": ["resourcePool"], "Datacenter": ["vmFolder"]})
    tmpl = inv.find("VirtualMachine", "vhpc_clone")
    host = inv.find("HostSystem", HOST).ref
    target = tmpl.get("environmentBrowser").QueryConfigTarget(host=host)
    dc = inv.find("Datacenter", "HPC_Datacenter")
    return SimpleNamespace(tmpl=tmpl.ref, host=host, target=target, dc=dc.ref, folder=dc.get("vmFolder"),
                           pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"))


@pytest.fixture
def make_vms(session, where):
    """make_vms(n, config) clones n small VMs on HOST; all powered off and destroyed after the test."""
    made = []

    def make(n=1, config=None):
        names = [f"rule-{uuid.uuid4().hex[:8]}" for _ in range(n)]
        tasks = []
        for name in names:
            spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=where.pool, host=where.host),
                                    config=config or vim.vm.ConfigSpec(), powerOn=False)
            spec.config.memoryMB = MEMORY_MB
            spec.config.numCPUs = 1
            tasks.append(where.tmpl.CloneVM_Task(folder=where.folder, name=name, spec=spec))
        outcomes = wait_for_tasks(session, tasks)
        vms = [outcomes[t._moId].result for t in tasks if outcomes[t._moId].ok]
        made.extend(vms)
        assert len(vms) == n, [o.error for o in outcomes.values() if not o.ok]
        return vms

    yield make
    on = [vm for vm in made if vm.runtime.powerState == "poweredOn"]
    wait_for_tasks(session, [vm.PowerOffVM_Task() for vm in on])
    outcomes = wait_for_tasks(session, [vm.Destroy_Task() for vm in made])
    assert all(o.ok for o in outcomes.values()), [o.error for o in outcomes.values()]


def debug(lab, path: str) -> dict:
    ctx = ssl.create_default_context(cafile=lab.settings["ca_file"])
    req = urllib.request.Request(lab.url + path, data=b"", method="POST")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
        return json.load(resp)


def backing(info) -> vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo:
    """A DirectPath backing from a QueryConfigTarget pciPassthrough/sriov entry."""
    dev = info.pciDevice
    return vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(
        id=dev.id, deviceId=format(dev.deviceId & 0xFFFF, "x"), systemId=info.systemId,
        vendorId=dev.vendorId, deviceName=dev.deviceName)


def gpu_change(where, gpu_id: str, key: int = -100) -> vim.vm.device.VirtualDeviceSpec:
    info = next(p for p in where.target.pciPassthrough if p.pciDevice.id == gpu_id)
    device = vim.vm.device.VirtualPCIPassthrough(key=key, backing=backing(info))
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=device)


def vgpu_change(profile: str) -> vim.vm.device.VirtualDeviceSpec:
    device = vim.vm.device.VirtualPCIPassthrough(
        key=-101, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu=profile))
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=device)


def sriov_change(where, pf: str = PF) -> vim.vm.device.VirtualDeviceSpec:
    info = next(p for p in where.target.sriov if p.pciDevice.id == pf)
    device = vim.vm.device.VirtualSriovEthernetCard(
        key=-102,
        backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="vHPC-PG-VMNetwork"),
        sriovBacking=vim.vm.device.VirtualSriovEthernetCard.SriovBackingInfo(physicalFunctionBacking=backing(info)))
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=device)


def reserved(*changes) -> vim.vm.ConfigSpec:
    return vim.vm.ConfigSpec(memoryReservationLockedToMax=True, deviceChange=list(changes))


def outcome(session, task):
    """(ok, fault) of a task; the fault as pyVmomi gives it (type, .msg)."""
    got = wait_for_tasks(session, [task])[task._moId]
    return got.ok, (None if got.ok else task.info.error)


def power_on(session, vm):
    return outcome(session, vm.PowerOnVM_Task())


def power_off(session, vm):
    wait_for_task(session, vm.PowerOffVM_Task(), what="power off")


# --- passthrough: full memory reservation, one VM per device ----------------------------------

def test_passthrough_vm_without_full_memory_reservation_does_not_power_on(session, where, make_vms):
    vm, = make_vms(1, vim.vm.ConfigSpec(deviceChange=[gpu_change(where, GPU)]))
    ok, fault = power_on(session, vm)
    assert not ok and isinstance(fault, vim.fault.GenericVmConfigFault)
    assert (f"Invalid memory setting: memory reservation (sched.mem.min) should be equal to memsize({MEMORY_MB})."
            in fault.msg)
    assert vm.name in fault.msg and GPU in fault.msg
    assert vm.runtime.powerState == "poweredOff"

    wait_for_task(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(memoryReservationLockedToMax=True)))
    assert power_on(session, vm) == (True, None)
    assert vm.runtime.powerState == "poweredOn"


def test_vgpu_vm_without_full_memory_reservation_does_not_power_on(session, make_vms):
    vm, = make_vms(1, vim.vm.ConfigSpec(deviceChange=[vgpu_change("grid_v100-8q")]))
    ok, fault = power_on(session, vm)
    assert not ok and f"memsize({MEMORY_MB})" in fault.msg and "grid_v100-8q" in fault.msg
    reservation = vim.ResourceAllocationInfo(reservation=MEMORY_MB)
    wait_for_task(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(memoryAllocation=reservation)))
    assert power_on(session, vm) == (True, None)


def test_a_gpu_powers_on_in_one_vm_at_a_time(session, where, make_vms):
    first, second = make_vms(2, reserved(gpu_change(where, GPU)))
    other_gpu, = make_vms(1, reserved(gpu_change(where, GPU2)))
    assert power_on(session, first) == (True, None)
    ok, fault = power_on(session, second)
    assert not ok and isinstance(fault, vim.fault.GenericVmConfigFault)
    assert f"Device {GPU} is already in use by VM {first.name} on host {HOST}" in fault.msg
    assert second.runtime.powerState == "poweredOff"
    assert power_on(session, other_gpu) == (True, None)      # the host's other GPU is free

    power_off(session, first)
    assert power_on(session, second) == (True, None)
    ok, fault = power_on(session, first)
    assert not ok and f"already in use by VM {second.name}" in fault.msg


def test_power_on_multi_vm_goes_through_the_same_rules(session, where, make_vms):
    a, b = make_vms(2, reserved(gpu_change(where, GPU)))
    task = where.dc.PowerOnMultiVM_Task(vm=[a, b])
    result = wait_for_task(session, task, what="PowerOnMultiVM")
    assert [x.vm for x in result.attempted] == [a, b]
    outcomes = wait_for_tasks(session, [x.task for x in result.attempted])
    first, second = (outcomes[x.task._moId] for x in result.attempted)
    assert first.ok and not second.ok and f"already in use by VM {a.name}" in second.error
    assert (a.runtime.powerState, b.runtime.powerState) == ("poweredOn", "poweredOff")


def test_gpu_with_passthrough_disabled_on_the_host_does_not_power_on(session, where, make_vms, lab):
    vm, = make_vms(1, reserved(gpu_change(where, GPU2)))
    assert debug(lab, f"/debug/passthru?host={HOST}&id={GPU2.upper()}&enabled=false")["enabled"] is False
    try:
        info = {p.id: p for p in where.host.config.pciPassthruInfo}[GPU2]
        assert info.passthruEnabled is False
        offered = where.tmpl.environmentBrowser.QueryConfigTarget(host=where.host).pciPassthrough
        assert [p.pciDevice.id for p in offered] == [GPU]
        ok, fault = power_on(session, vm)
        assert not ok and f"Device {GPU2} of VM {vm.name} is not enabled for passthrough on host {HOST}" in fault.msg
    finally:
        assert debug(lab, f"/debug/passthru?host={HOST}&id={GPU2}&enabled=true")["enabled"] is True
    assert power_on(session, vm) == (True, None)


# --- vGPU profiles ----------------------------------------------------------------------------

def test_reconfigure_refuses_a_vgpu_profile_the_host_does_not_offer(session, make_vms):
    vm, = make_vms(1)
    ok, fault = outcome(session, vm.ReconfigVM_Task(spec=reserved(vgpu_change("grid_a100-8c"))))
    assert not ok and isinstance(fault, vim.fault.InvalidDeviceSpec)
    assert f"vGPU profile grid_a100-8c is not supported by host {HOST}" in fault.msg and "grid_v100-8q" in fault.msg
    assert not [d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualPCIPassthrough)]
    ok, _ = outcome(session, vm.ReconfigVM_Task(spec=reserved(vgpu_change("grid_v100-8q"))))
    assert ok


# --- SR-IOV -----------------------------------------------------------------------------------

def test_reconfigure_refuses_sriov_on_a_pf_with_sriov_disabled(session, where, make_vms, lab):
    vm, = make_vms(1)
    change = sriov_change(where)          # built while the host still offers the PF
    got = debug(lab, f"/debug/sriov?host={HOST}&pf={PF}&enabled=false")
    assert got["enabled"] is False and got["numVirtualFunction"] == 0
    try:
        info = {p.id: p for p in where.host.config.pciPassthruInfo}[PF]
        assert isinstance(info, vim.host.SriovInfo) and info.sriovEnabled is False
        assert not where.tmpl.environmentBrowser.QueryConfigTarget(host=where.host).sriov
        ok, fault = outcome(session, vm.ReconfigVM_Task(spec=reserved(change)))
        assert not ok and isinstance(fault, vim.fault.InvalidDeviceSpec)
        assert f"physical function {PF} does not have SR-IOV enabled on host {HOST}" in fault.msg
    finally:
        got = debug(lab, f"/debug/sriov?host={HOST}&pf={PF}&enabled=true")
    assert got["enabled"] is True and got["numVirtualFunction"] == 8
    assert where.tmpl.environmentBrowser.QueryConfigTarget(host=where.host).sriov
    ok, _ = outcome(session, vm.ReconfigVM_Task(spec=reserved(sriov_change(where))))
    assert ok


def test_ninth_sriov_vm_on_one_pf_does_not_power_on(session, where, make_vms):
    vms = make_vms(9, reserved(sriov_change(where)))
    outcomes = wait_for_tasks(session, [vm.PowerOnVM_Task() for vm in vms[:8]])
    assert all(o.ok for o in outcomes.values()), [o.error for o in outcomes.values()]
    ok, fault = power_on(session, vms[8])
    assert not ok and isinstance(fault, vim.fault.GenericVmConfigFault)
    assert f"No free virtual function on physical function {PF} of host {HOST}" in fault.msg
    assert "8 of 8 in use" in fault.msg

    power_off(session, vms[0])           # a VF is held only while powered on
    assert power_on(session, vms[8]) == (True, None)


# --- sizes: vSphere's smallest VM ---------------------------------------------------------------

def test_memory_must_be_a_multiple_of_4_mb_and_efi_needs_96_mb_to_power_on(session, where, make_vms):
    vm, = make_vms(1)
    for mb in (6, 2):
        ok, fault = outcome(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(memoryMB=mb)))
        assert not ok and isinstance(fault, vmodl.fault.InvalidArgument) and fault.invalidProperty == "memoryMB"
        assert f"memory of {mb} MB" in fault.msg and "multiple of 4 MB" in fault.msg
    assert vm.config.hardware.memoryMB == MEMORY_MB
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=where.pool, host=where.host),
                            config=vim.vm.ConfigSpec(memoryMB=10), powerOn=False)
    ok, fault = outcome(session, where.tmpl.CloneVM_Task(folder=where.folder, name=f"rule-{uuid.uuid4().hex[:8]}",
                                                         spec=spec))
    assert not ok and isinstance(fault, vmodl.fault.InvalidArgument)

    assert outcome(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(memoryMB=64))) == (True, None)
    assert vm.config.firmware == "efi"
    ok, fault = power_on(session, vm)
    assert not ok and "EFI needs at least 96 MB" in fault.msg and vm.runtime.powerState == "poweredOff"
    assert outcome(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(memoryMB=96))) == (True, None)
    assert power_on(session, vm) == (True, None)
