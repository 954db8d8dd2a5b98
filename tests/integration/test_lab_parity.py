"""The lab's rules for what the original's 1.0.3 commands call, checked with pyVmomi directly (not the
toolkit): host power policies and passthrough configuration, moving VMs, instant clones, secure boot,
CPU and NUMA affinity, cores per socket, switch MTU (sim/host_systems.go, vm_move.go,
vm_instantclone.go, rules_tuning.go, network_mtu.go).

Whatever a test changes on a host it puts back; every VM made here is destroyed: the lab is shared.
"""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from pyVmomi import vim, vmodl

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_tasks

HOST, HOST_B, HPC_HOST = "vhpc-esx-02.hpc.vmware.com", "vhpc-esx-04.hpc.vmware.com", "vhpc-esx-01.hpc.vmware.com"
GPU, PF = "0000:d8:00.0", "0000:af:00.0"


@pytest.fixture(scope="module")
def lab_objects(session):
    inv = read_inventory(session, {"VirtualMachine": ["environmentBrowser"], "Datacenter": ["vmFolder"],
                                    "ClusterComputeResource": ["resourcePool"],
                                    "HostSystem": ["configManager.powerSystem", "configManager.pciPassthruSystem"]})
    dc = inv.find("Datacenter", "HPC_Datacenter")
    host = inv.find("HostSystem", HOST)
    return SimpleNamespace(
        tmpl=inv.find("VirtualMachine", "vhpc_clone").ref, folder=dc.get("vmFolder"), host=host.ref,
        host_b=inv.find("HostSystem", HOST_B).ref, hpc_host=inv.find("HostSystem", HPC_HOST).ref,
        pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"),
        hpc_pool=inv.find("ClusterComputeResource", "HPC_Cluster").get("resourcePool"),
        power=host.get("configManager.powerSystem"), passthru=host.get("configManager.pciPassthruSystem"),
        target=inv.find("VirtualMachine", "vhpc_clone").get("environmentBrowser").QueryConfigTarget(host=host.ref))


def run(session, task):
    """A task's outcome: (ok, its result or its fault)."""
    outcome = wait_for_tasks(session, [task])[task._moId]
    return outcome.ok, outcome.result if outcome.ok else task.info.error


@pytest.fixture
def vms(session, lab_objects):
    """vms(config, host, power_on) clones a small VM; every VM is powered off and destroyed afterwards."""
    made = []

    def make(config=None, host=None, power_on=False):
        config = config or vim.vm.ConfigSpec()
        config.memoryMB, config.numCPUs = 512, config.numCPUs or 2
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=lab_objects.pool, host=host or lab_objects.host),
                                config=config, powerOn=power_on)
        ok, vm = run(session, lab_objects.tmpl.CloneVM_Task(folder=lab_objects.folder,
                                                            name=f"parity-{uuid.uuid4().hex[:8]}", spec=spec))
        assert ok, vm
        made.append(vm)
        return vm

    yield make
    wait_for_tasks(session, [vm.PowerOffVM_Task() for vm in made if vm.runtime.powerState == "poweredOn"])
    outcomes = wait_for_tasks(session, [vm.Destroy_Task() for vm in made])
    assert all(o.ok for o in outcomes.values())


def gpu(lab_objects, pci=GPU):
    info = next(p for p in lab_objects.target.pciPassthrough if p.pciDevice.id == pci)
    dev = info.pciDevice
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualPCIPassthrough(
        key=-1, backing=vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(
            id=dev.id, deviceId=format(dev.deviceId & 0xFFFF, "x"), systemId=info.systemId,
            vendorId=dev.vendorId, deviceName=dev.deviceName)))


def reserved(*changes):
    return vim.vm.ConfigSpec(memoryReservationLockedToMax=True, deviceChange=list(changes))


def test_power_policies_offered_and_refused(session, lab_objects):
    ps = lab_objects.power
    assert [(p.key, p.shortName) for p in ps.capability.availablePolicy] == [
        (1, "static"), (2, "dynamic"), (3, "low"), (4, "custom")]
    assert ps.info.currentPolicy.shortName == "dynamic"
    try:
        ps.ConfigurePowerPolicy(key=1)
        host = read_inventory(session, {"HostSystem": ["config.powerSystemInfo",
                                                       "hardware.cpuPowerManagementInfo"]}).find("HostSystem", HOST)
        assert host.get("config.powerSystemInfo").currentPolicy.name == "High performance"
        assert host.get("hardware.cpuPowerManagementInfo").currentPolicy == "High performance"
        with pytest.raises(vmodl.fault.InvalidArgument) as err:
            ps.ConfigurePowerPolicy(key=7)
        assert "offers 1 (High performance)" in err.value.msg
    finally:
        ps.ConfigurePowerPolicy(key=2)


def test_host_topology(session):
    host = read_inventory(session, {"HostSystem": ["hardware.cpuInfo", "hardware.numaInfo"]}).find("HostSystem", HOST)
    assert host.get("hardware.cpuInfo").numCpuThreads == 80 and host.get("hardware.numaInfo").numNodes == 2


def test_update_passthru_config(session, lab_objects, vms):
    system = lab_objects.passthru
    system.UpdatePassthruConfig(config=[vim.host.PciPassthruConfig(id=GPU, passthruEnabled=False)])
    try:
        info = next(i for i in system.pciPassthruInfo if i.id == GPU)
        assert not info.passthruEnabled and not info.passthruActive
    finally:
        system.UpdatePassthruConfig(config=[vim.host.PciPassthruConfig(id=GPU, passthruEnabled=True)])
    vm = vms(reserved(gpu(lab_objects)), power_on=True)
    with pytest.raises(vim.fault.HostConfigFault) as err:
        system.UpdatePassthruConfig(config=[vim.host.PciPassthruConfig(id=GPU, passthruEnabled=False)])
    assert vm.name in err.value.msg
    with pytest.raises(vim.fault.HostConfigFault) as err:
        system.UpdatePassthruConfig(config=[vim.host.SriovConfig(id=PF, sriovEnabled=True, numVirtualFunction=9,
                                                                 passthruEnabled=False)])
    assert "1 to 8" in err.value.msg
    try:
        system.UpdatePassthruConfig(config=[vim.host.SriovConfig(id=PF, sriovEnabled=True, numVirtualFunction=2,
                                                                 passthruEnabled=False)])
        info = next(i for i in system.pciPassthruInfo if i.id == PF)   # waits for the reboot (test_lab_hosts.py)
        assert (info.numVirtualFunctionRequested, info.numVirtualFunction) == (2, 8)
    finally:
        system.UpdatePassthruConfig(config=[vim.host.SriovConfig(id=PF, sriovEnabled=True, numVirtualFunction=8,
                                                                 passthruEnabled=False)])


def test_a_directpath_device_moved_powered_off_is_chosen_again_on_its_new_host(session, lab_objects, vms):
    """ESXi refuses to power on a DirectPath device whose systemId is another host's (a VM moved powered off
    keeps it) until the backing names the new host."""
    vm = vms(reserved(gpu(lab_objects)))
    assert run(session, vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=lab_objects.host_b)))[0]
    ok, fault = run(session, vm.PowerOnVM_Task())
    assert not ok and isinstance(fault, vim.fault.GenericVmConfigFault)
    assert "The systemId does not match the current system" in fault.msg and "d8:0.0" in fault.msg
    dev = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualPCIPassthrough))
    dev.backing.systemId = lab_objects.host_b.hardware.systemInfo.uuid
    assert run(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[
        vim.vm.device.VirtualDeviceSpec(operation="edit", device=dev)])))[0]
    assert run(session, vm.PowerOnVM_Task())[0]


def test_relocate_rules(session, lab_objects, vms):
    vm = vms(reserved(gpu(lab_objects)))
    ok, _ = run(session, vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=lab_objects.host_b)))
    assert ok and vm.runtime.host == lab_objects.host_b
    ok, fault = run(session, vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=lab_objects.hpc_host)))
    assert not ok and isinstance(fault, vmodl.fault.InvalidArgument) and "compute resource" in fault.msg, fault
    ok, _ = run(session, vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=lab_objects.hpc_host,
                                                                     pool=lab_objects.hpc_pool)))
    assert ok and vm.resourcePool == lab_objects.hpc_pool
    ok, _ = run(session, vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=lab_objects.host, pool=lab_objects.pool)))
    assert ok
    run(session, vm.PowerOnVM_Task())
    ok, fault = run(session, vm.MigrateVM_Task(host=lab_objects.host_b, priority="defaultPriority"))
    assert not ok and isinstance(fault, vim.fault.DisallowedMigrationDeviceAttached)
    assert isinstance(fault.fault, vim.fault.DeviceNotSupported) and "prevents migration" in fault.msg


def test_instant_clone_from_a_running_vm(session, lab_objects, vms):
    source = vms(power_on=True)   # on HOST
    name = f"parity-ic-{uuid.uuid4().hex[:6]}"
    role = [vim.option.OptionValue(key="guestinfo.role", value="compute")]
    # The clone shares its source's memory and disks: it runs on the source's host, never another.
    ok, fault = run(session, source.InstantClone_Task(spec=vim.vm.InstantCloneSpec(
        name=name, location=vim.vm.RelocateSpec(host=lab_objects.host_b), config=role)))
    assert not ok and isinstance(fault, vmodl.fault.InvalidArgument) and fault.invalidProperty == "spec.location.host"
    assert "runs on its source's host" in fault.msg and HOST in fault.msg and HOST_B in fault.msg
    ok, fault = run(session, source.InstantClone_Task(spec=vim.vm.InstantCloneSpec(
        name=name, location=vim.vm.RelocateSpec(diskMoveType="createNewChildDiskBacking"))))
    assert not ok and isinstance(fault, vmodl.fault.InvalidArgument)
    assert fault.invalidProperty == "spec.location.diskMoveType"
    spec = vim.vm.InstantCloneSpec(name=name, location=vim.vm.RelocateSpec(pool=lab_objects.pool), config=role)
    ok, clone = run(session, source.InstantClone_Task(spec=spec))
    assert ok, clone
    try:
        assert clone.runtime.powerState == "poweredOn" and clone.runtime.host == lab_objects.host
        assert {o.key: o.value for o in clone.config.extraConfig}["guestinfo.role"] == "compute"
    finally:
        wait_for_tasks(session, [clone.PowerOffVM_Task()])
        wait_for_tasks(session, [clone.Destroy_Task()])
    off = vms()
    ok, fault = run(session, off.InstantClone_Task(spec=vim.vm.InstantCloneSpec(name=name + "-x",
                                                                                location=vim.vm.RelocateSpec())))
    assert not ok and isinstance(fault, vim.fault.InvalidPowerState)


def test_secure_boot_affinity_numa_and_cores(session, vms):
    bios = vms(vim.vm.ConfigSpec(firmware="bios"))
    ok, fault = run(session, bios.ReconfigVM_Task(spec=vim.vm.ConfigSpec(
        bootOptions=vim.vm.BootOptions(efiSecureBootEnabled=True))))
    assert not ok and isinstance(fault, vim.fault.InvalidVmConfig) and "EFI" in fault.msg
    vm = vms()
    assert run(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(
        bootOptions=vim.vm.BootOptions(efiSecureBootEnabled=True))))[0]
    assert vm.config.bootOptions.efiSecureBootEnabled is True
    ok, fault = run(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(cpuAffinity=vim.vm.AffinityInfo(
        affinitySet=[0, 80]))))
    assert not ok and isinstance(fault, vmodl.fault.InvalidArgument) and "logical CPU 80" in fault.msg
    ok, fault = run(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(extraConfig=[
        vim.option.OptionValue(key="numa.nodeAffinity", value="2")])))
    assert not ok and isinstance(fault, vmodl.fault.InvalidArgument) and "NUMA node 2" in fault.msg
    ok, fault = run(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(numCPUs=4, numCoresPerSocket=3)))
    assert not ok and isinstance(fault, vmodl.fault.InvalidArgument)
    assert run(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(
        numCPUs=4, numCoresPerSocket=2, cpuAffinity=vim.vm.AffinityInfo(affinitySet=[0, 2, 4, 79]),
        extraConfig=[vim.option.OptionValue(key="numa.nodeAffinity", value="0,1")])))[0]
    assert vm.config.cpuAffinity.affinitySet == [0, 2, 4, 79] and vm.config.hardware.numCoresPerSocket == 2
    run(session, vm.PowerOnVM_Task())
    ok, fault = run(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(cpuAffinity=vim.vm.AffinityInfo(
        affinitySet=[1]))))
    assert not ok and isinstance(fault, vim.fault.InvalidPowerState)


def test_switch_mtu(session, lab_objects):
    ns = read_inventory(session, {"HostSystem": ["configManager.networkSystem"]}).find(
        "HostSystem", HOST_B).get("configManager.networkSystem")
    name = f"parity-{uuid.uuid4().hex[:6]}"
    spec = vim.host.VirtualSwitch.Specification(numPorts=128, mtu=9001,
                                               bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=["vmnic3"]))
    with pytest.raises(vmodl.fault.InvalidArgument):
        ns.AddVirtualSwitch(vswitchName=name, spec=spec)
    spec.mtu = 9000
    ns.AddVirtualSwitch(vswitchName=name, spec=spec)
    try:
        switch = next(v for v in ns.networkInfo.vswitch if v.name == name)
        assert switch.mtu == 9000 and switch.spec.bridge.nicDevice == ["vmnic3"]
    finally:
        ns.RemoveVirtualSwitch(vswitchName=name)
