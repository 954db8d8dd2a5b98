"""The lab's placement rules, checked with pyVmomi directly (not through the toolkit): NUMA nodes with
their PCI devices, host memory admission, 1 GB pages, hardware labels for Dynamic DirectPath, DRS
anti-affinity rules, and MIG on the A100 hosts. pyVmomi must decode every property and fault the lab
sends. Everything made here is removed: the labs are shared by the whole session."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from pyVmomi import vim, vmodl

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task, wait_for_tasks

HOST = "vhpc-esx-04.hpc.vmware.com"
OTHER = "vhpc-esx-03.hpc.vmware.com"


def objects(session):
    inv = read_inventory(session, {"VirtualMachine": [], "HostSystem": [],
                                    "Datacenter": ["vmFolder"], "ClusterComputeResource": ["resourcePool"]})
    dc = inv.find("Datacenter", "HPC_Datacenter")
    cluster = inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster")
    return SimpleNamespace(inv=inv, tmpl=inv.find("VirtualMachine", "vhpc_clone").ref, folder=dc.get("vmFolder"),
                           cluster=cluster.ref, pool=cluster.get("resourcePool"),
                           host=lambda name: inv.find("HostSystem", name).ref)


def fault_of(session, task):
    outcome = wait_for_tasks(session, [task])[task._moId]
    return None if outcome.ok else (task.info.error, outcome.error)


@pytest.fixture
def maker(request):
    """clone(name_prefix, host, config) on a session; powered off and destroyed afterwards."""
    made = []

    def make(session, lab, host, config=None, version=None, **spec_args):
        """With ``version``, the clone is upgraded (UpgradeVM_Task) before ``config`` is applied to it:
        how a Dynamic DirectPath VM (vmx-17) is made from the vmx-13 template."""
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=lab.pool, host=lab.host(host)),
                                config=vim.vm.ConfigSpec() if version or not config else config, **spec_args)
        vm = wait_for_task(session, lab.tmpl.CloneVM_Task(folder=lab.folder, name=f"lp-{uuid.uuid4().hex[:8]}",
                                                          spec=spec))
        made.append((session, vm))
        if version:
            wait_for_task(session, vm.UpgradeVM_Task(version=version))
            wait_for_task(session, vm.ReconfigVM_Task(spec=config))
        return vm

    yield make
    for session, vm in made:
        if vm.runtime.powerState == "poweredOn":
            wait_for_task(session, vm.PowerOffVM_Task())
        wait_for_task(session, vm.Destroy_Task())


def test_numa_nodes_list_their_pci_devices_and_hosts_have_real_memory(session):
    host = objects(session).host(HOST)
    assert host.hardware.memorySize == 768 * 2**30 and host.summary.hardware.memorySize == 768 * 2**30
    numa = host.hardware.numaInfo
    assert numa.numNodes == 2
    node = {pci: n.typeId for n in numa.numaNode for pci in n.pciId}
    assert node["0000:3b:00.0"] == 0 and node["0000:d8:00.0"] == 1 and node["0000:af:00.0"] == 1
    assert node["0000:af:00.1"] == 1 and set(node) == {d.id for d in host.hardware.pciDevice}


def test_memory_reservations_must_fit_in_the_host(session, maker):
    lab = objects(session)
    big = lambda gb: vim.vm.ConfigSpec(memoryMB=gb * 1024, memoryReservationLockedToMax=True)   # noqa: E731
    a, b = maker(session, lab, HOST, big(500)), maker(session, lab, HOST, big(300))
    wait_for_task(session, a.PowerOnVM_Task())
    fault, message = fault_of(session, b.PowerOnVM_Task())
    assert isinstance(fault, vim.fault.InsufficientHostMemoryCapacityFault)
    assert fault.requested == 300 * 2**30 and fault.unreserved == 268 * 2**30
    assert "does not have sufficient memory resources to satisfy the reservation" in message


def test_1g_pages_need_full_memory_reservation(session, maker):
    lab = objects(session)
    pages = [vim.option.OptionValue(key="sched.mem.lpage.enable1GPage", value="TRUE")]
    vm = maker(session, lab, HOST, vim.vm.ConfigSpec(extraConfig=pages))
    fault, message = fault_of(session, vm.PowerOnVM_Task())
    assert isinstance(fault, vim.fault.GenericVmConfigFault) and "1 GB pages" in message
    ok = maker(session, lab, HOST, vim.vm.ConfigSpec(extraConfig=pages, memoryReservationLockedToMax=True))
    assert fault_of(session, ok.PowerOnVM_Task()) is None


def test_hardware_label_steers_a_dynamic_directpath_device(session, maker):
    lab = objects(session)
    host = lab.host(OTHER)
    manager = host.configManager.assignableHardwareManager
    override = vim.host.AssignableHardwareConfig.AttributeOverride
    manager.UpdateAssignableHardwareConfig(config=vim.host.AssignableHardwareConfig(attributeOverride=[
        override(instanceId="0000:d8:00.0", name="customLabel", value="lp-train")]))
    try:
        assert [(o.instanceId, o.value) for o in host.config.assignableHardwareConfig.attributeOverride] == \
            [("0000:d8:00.0", "lp-train")] == [(o.instanceId, o.value) for o in manager.config.attributeOverride]
        backing = vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo(
            deviceName="", customLabel="lp-train",
            allowedDevice=[vim.vm.device.VirtualPCIPassthrough.AllowedDevice(vendorId=0x10de, deviceId=0x1db4)])
        dev = vim.vm.device.VirtualPCIPassthrough(key=-1, backing=backing)
        vm = maker(session, lab, OTHER, vim.vm.ConfigSpec(memoryReservationLockedToMax=True, deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="add", device=dev)]), version="vmx-17")
        wait_for_task(session, vm.PowerOnVM_Task())
        assigned = [d.backing.assignedId for d in vm.config.hardware.device
                    if isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)]
        assert assigned == ["0000:d8:00.0"]
        assert [(b.instanceId, b.vm._moId) for b in manager.binding] == [("0000:d8:00.0", vm._moId)]
        with pytest.raises(vmodl.fault.InvalidArgument):
            manager.UpdateAssignableHardwareConfig(config=vim.host.AssignableHardwareConfig(attributeOverride=[
                override(instanceId="0000:99:00.0", name="customLabel", value="x")]))
    finally:
        manager.UpdateAssignableHardwareConfig(config=vim.host.AssignableHardwareConfig())


def test_anti_affinity_rule_is_kept_reported_and_enforced(session, maker):
    lab = objects(session)
    a, b = maker(session, lab, HOST), maker(session, lab, HOST)
    cluster = lab.cluster
    name = f"lp-{uuid.uuid4().hex[:6]}"
    info = vim.cluster.AntiAffinityRuleSpec(name=name, enabled=True, vm=[a, b])
    wait_for_task(session, cluster.ReconfigureComputeResource_Task(
        spec=vim.cluster.ConfigSpecEx(rulesSpec=[vim.cluster.RuleSpec(operation="add", info=info)]), modify=True))
    rule = next(r for r in cluster.configurationEx.rule if r.name == name)
    try:
        assert rule.key and rule.ruleUuid and rule.inCompliance and rule.status == "green"
        assert {v._moId for v in rule.vm} == {a._moId, b._moId}
        wait_for_task(session, a.PowerOnVM_Task())
        fault, message = fault_of(session, b.PowerOnVM_Task())
        assert isinstance(fault, vim.fault.RuleViolation) and fault.rule.name == name
        assert "would violate a virtual machine affinity/anti-affinity rule" in message
    finally:
        wait_for_task(session, cluster.ReconfigureComputeResource_Task(spec=vim.cluster.ConfigSpecEx(
            rulesSpec=[vim.cluster.RuleSpec(operation="remove", removeKey=rule.key)]), modify=True))
    assert all(r.name != name for r in cluster.configurationEx.rule)


MIG_HOST, SLICED_HOST = "vhpc-esx-09.hpc.vmware.com", "vhpc-esx-10.hpc.vmware.com"


@pytest.fixture(scope="module")
def a100_session(a100_lab):
    s = a100_lab.connect()
    yield s
    s.close()


def vgpus(*profiles):
    return vim.vm.ConfigSpec(memoryReservationLockedToMax=True, deviceChange=[
        vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualPCIPassthrough(
            key=-1 - i, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu=p)))
        for i, p in enumerate(profiles)])


def test_a100_hosts_offer_the_profiles_of_their_gpus_mode(a100_session):
    lab = objects(a100_session)
    mig, sliced = lab.host(MIG_HOST), lab.host(SLICED_HOST)
    assert "grid_a100-3-20c" in mig.config.sharedPassthruGpuTypes and "grid_a100-4c" not in mig.config.sharedPassthruGpuTypes
    assert "grid_a100-4c" in sliced.config.sharedPassthruGpuTypes and "grid_a100-1-5c" not in sliced.config.sharedPassthruGpuTypes
    names = {g.pciId: g.deviceName for g in mig.config.graphicsInfo}
    assert names == {i: "GA100 [A100 PCIe 40GB]" for i in ("0000:17:00.0", "0000:65:00.0", "0000:ca:00.0", "0000:e3:00.0")}


def test_a_mig_gpu_holds_seven_1_slice_instances_and_mixes_only_what_fits(a100_session, maker):
    lab = objects(a100_session)
    # One MIG-backed vGPU per VM (NVIDIA: several vGPUs in a VM only of a whole-GPU time-sliced type);
    # the host's two A100s hold seven 1-slice instances each.
    small = [maker(a100_session, lab, MIG_HOST, vgpus("grid_a100-1-5c")) for _ in range(15)]
    wait_for_tasks(a100_session, [vm.PowerOnVM_Task() for vm in small[:14]])
    fault, message = fault_of(a100_session, small[14].PowerOnVM_Task())
    assert isinstance(fault, vim.fault.GenericVmConfigFault) and "has no free GPU instance" in message
    wait_for_tasks(a100_session, [vm.PowerOffVM_Task() for vm in small[:14]])
    threes = [maker(a100_session, lab, MIG_HOST, vgpus("grid_a100-3-20c")) for _ in range(4)]
    four = maker(a100_session, lab, MIG_HOST, vgpus("grid_a100-4-20c"))
    for vm in threes:   # two 3-slice instances per GPU: slices 0-3 and 4-7 of both
        wait_for_task(a100_session, vm.PowerOnVM_Task())
    assert "grid_a100-3-20c at memory slices 0-3" in fault_of(a100_session, four.PowerOnVM_Task())[1]
    wait_for_task(a100_session, threes[0].PowerOffVM_Task())
    assert fault_of(a100_session, four.PowerOnVM_Task()) is None      # 4 + 3 slices fit
