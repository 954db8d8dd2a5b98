"""The lab's host states, checked with pyVmomi directly: maintenance mode (no VM powered on, made or moved
there), reboots, and SR-IOV virtual function counts that wait for the reboot (sim/host_state.go).

The host used is put back as it was (out of maintenance mode, 8 VFs active): the lab is shared."""
from __future__ import annotations

import uuid

import pytest
from pyVmomi import vim

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_tasks

HOST = "vhpc-esx-08.hpc.vmware.com"
PF = "0000:af:00.0"


@pytest.fixture(scope="module")
def objs(session):
    inv = read_inventory(session, {"VirtualMachine": [], "Datacenter": ["vmFolder"],
                                    "ClusterComputeResource": ["resourcePool"],
                                    "HostSystem": ["configManager.pciPassthruSystem"]})
    host = inv.find("HostSystem", HOST)
    return dict(host=host.ref, passthru=host.get("configManager.pciPassthruSystem"),
                tmpl=inv.find("VirtualMachine", "vhpc_clone").ref,
                folder=inv.find("Datacenter", "HPC_Datacenter").get("vmFolder"),
                pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"))


def run(session, task):
    outcome = wait_for_tasks(session, [task])[task._moId]
    return outcome.ok, outcome.result if outcome.ok else task.info.error


def pf(host):
    return next(i for i in host.config.pciPassthruInfo if i.id == PF)


def ask_vfs(objs, n):
    objs["passthru"].UpdatePassthruConfig(config=[vim.host.SriovConfig(id=PF, sriovEnabled=True,
                                                                        numVirtualFunction=n)])


def clone(session, objs, powered=False):
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=objs["pool"], host=objs["host"]),
                            config=vim.vm.ConfigSpec(memoryMB=512), powerOn=powered)
    return run(session, objs["tmpl"].CloneVM_Task(folder=objs["folder"], name=f"hs-{uuid.uuid4().hex[:8]}", spec=spec))


def test_virtual_functions_wait_for_the_reboot_in_maintenance_mode(session, objs):
    host = objs["host"]
    ok, vm = clone(session, objs)
    assert ok, vm
    try:
        ask_vfs(objs, 4)
        info = pf(host)
        assert (info.numVirtualFunctionRequested, info.numVirtualFunction, info.sriovActive) == (4, 8, True)
        assert host.summary.rebootRequired is True
        ok, fault = run(session, host.RebootHost_Task(force=False))
        assert not ok and isinstance(fault, vim.fault.InvalidState) and "not in maintenance mode" in fault.msg
        ok, _ = run(session, host.EnterMaintenanceMode_Task(timeout=0))
        assert ok and host.runtime.inMaintenanceMode and host.summary.runtime.inMaintenanceMode
        # In maintenance mode the host takes no new VM: no power-on, no clone there.
        ok, fault = run(session, vm.PowerOnVM_Task())
        assert not ok and isinstance(fault, vim.fault.InvalidState) and "is in maintenance mode" in fault.msg
        ok, fault = clone(session, objs)
        assert not ok and isinstance(fault, vim.fault.InvalidState) and "maintenance mode" in fault.msg
        ok, fault = run(session, host.RebootHost_Task(force=False))
        assert ok, fault
        info = pf(host)
        assert (info.numVirtualFunction, info.sriovActive, host.summary.rebootRequired) == (4, True, False)
        assert run(session, host.ExitMaintenanceMode_Task(timeout=0))[0]
        assert run(session, vm.PowerOnVM_Task())[0]
    finally:
        wait_for_tasks(session, [vm.PowerOffVM_Task()] if vm.runtime.powerState == "poweredOn" else [])
        wait_for_tasks(session, [vm.Destroy_Task()])
        if host.runtime.inMaintenanceMode:
            run(session, host.ExitMaintenanceMode_Task(timeout=0))
        ask_vfs(objs, 8)
        assert run(session, host.RebootHost_Task(force=True))[0]
    assert pf(host).numVirtualFunction == 8 and not host.summary.rebootRequired
