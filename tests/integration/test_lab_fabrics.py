"""The lab's fabric and accelerator rules, checked with pyVmomi directly (not through the toolkit):
GPU modes and vGPU capacity, Dynamic DirectPath assignment, PVRDMA host preparation, uplinks in use,
switch versions. pyVmomi must decode every property and fault the lab sends. Everything made here
is removed: the lab is shared by the whole session."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from pyVmomi import vim, vmodl

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task, wait_for_tasks

HOST = "vhpc-esx-05.hpc.vmware.com"
OLD_HOST = "vhpc-esx-01.hpc.vmware.com"   # ESXi 6.7.0


@pytest.fixture(scope="module")
def lab_objects(session):
    inv = read_inventory(session, {"VirtualMachine": [], "HostSystem": ["configManager.networkSystem"],
                                    "Datacenter": ["vmFolder", "networkFolder"],
                                    "ClusterComputeResource": ["resourcePool"]})
    dc = inv.find("Datacenter", "HPC_Datacenter")
    return SimpleNamespace(tmpl=inv.find("VirtualMachine", "vhpc_clone").ref, host=inv.find("HostSystem", HOST),
                           old=inv.find("HostSystem", OLD_HOST), folder=dc.get("vmFolder"),
                           net_folder=dc.get("networkFolder"),
                           pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"))


@pytest.fixture
def vms(session, lab_objects):
    made = []

    def clone(devices, host=None, version=None):
        """A clone with ``devices``; with ``version`` it is upgraded first (UpgradeVM_Task), then given them."""
        config = vim.vm.ConfigSpec(memoryMB=512, memoryReservationLockedToMax=True, deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="add", device=d) for d in devices])
        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=lab_objects.pool,
                                                             host=(host or lab_objects.host).ref),
                                config=None if version else config)
        vm = wait_for_task(session, lab_objects.tmpl.CloneVM_Task(folder=lab_objects.folder,
                                                                 name=f"lf-{uuid.uuid4().hex[:8]}", spec=spec))
        made.append(vm)
        if version:
            wait_for_task(session, vm.UpgradeVM_Task(version=version))
            wait_for_task(session, vm.ReconfigVM_Task(spec=config))
        return vm

    yield clone
    for vm in made:
        if vm.runtime.powerState == "poweredOn":
            wait_for_task(session, vm.PowerOffVM_Task())
        wait_for_task(session, vm.Destroy_Task())


def vgpu(profile):
    return vim.vm.device.VirtualPCIPassthrough(key=-1, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(
        vgpu=profile))


def task_fault(session, task):
    """The fault a task failed with, as pyVmomi decodes it (None when it succeeded)."""
    wait_for_tasks(session, [task])
    return task.info.error


def destroy_switches(session, *names: str) -> None:
    """Destroy the distributed switches of those names, if there are any."""
    content = session.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.DistributedVirtualSwitch], True)
    try:
        found = [d for d in view.view if d.name in names]
    finally:
        view.Destroy()
    if found:
        wait_for_tasks(session, [d.Destroy_Task() for d in found])


def power_on_fault(session, vm):
    fault = task_fault(session, vm.PowerOnVM_Task())
    assert isinstance(fault, vim.fault.GenericVmConfigFault), fault
    return fault.msg


def test_gpu_modes_and_profiles_as_pyvmomi_reads_them(lab_objects):
    cfg = lab_objects.host.ref.config
    graphics = {g.pciId: g for g in cfg.graphicsInfo}
    assert graphics["0000:3b:00.0"].graphicsType == "direct" and graphics["0000:d8:00.0"].graphicsType == "direct"
    assert graphics["0000:5e:00.0"].graphicsType == "sharedDirect" and graphics["0000:86:00.0"].memorySizeInKB == 16 << 20
    passthru = {i.id: i.passthruEnabled for i in cfg.pciPassthruInfo}
    assert passthru["0000:5e:00.0"] is False and passthru["0000:86:00.0"] is False and passthru["0000:3b:00.0"]
    assert "grid_p100-4q" in cfg.sharedPassthruGpuTypes
    assert "grid_p100-4q" not in lab_objects.old.ref.config.sharedPassthruGpuTypes   # no P100 on host 01
    assert {d.deviceId for d in cfg.graphicsConfig.deviceType} == {"0000:5e:00.0", "0000:86:00.0"}


def test_four_p100_4q_per_gpu_and_one_profile_at_a_time(session, vms):
    four = [vms([vgpu("grid_p100-4q")]) for _ in range(5)]
    for vm in four[:4]:
        wait_for_task(session, vm.PowerOnVM_Task())
    assert "holds 4 of 4 grid_p100-4q" in power_on_fault(session, four[4])
    assert len(next(g for g in four[0].runtime.host.config.graphicsInfo if g.pciId == "0000:86:00.0").vm) == 4
    wait_for_task(session, four[0].PowerOffVM_Task())
    other = vms([vgpu("grid_p100-8q")])
    assert "one profile at a time" in power_on_fault(session, other)


def dynamic_gpu():
    return vim.vm.device.VirtualPCIPassthrough(key=-1, backing=vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo(
        allowedDevice=[vim.vm.device.VirtualPCIPassthrough.AllowedDevice(vendorId=0x10de, deviceId=0x1db4)]))


def test_dynamic_directpath_needs_hardware_version_17(session, vms, lab_objects):
    """The template is vmx-13: a dynamic device is refused on it and on its clones (spec.config.version is
    for new VMs only, a clone keeps its source's version) until UpgradeVM_Task makes the VM vmx-17."""
    add = [vim.vm.device.VirtualDeviceSpec(operation="add", device=dynamic_gpu())]
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=lab_objects.pool, host=lab_objects.host.ref),
                            config=vim.vm.ConfigSpec(version="vmx-17", memoryReservationLockedToMax=True,
                                                     deviceChange=add))
    fault = task_fault(session, lab_objects.tmpl.CloneVM_Task(folder=lab_objects.folder,
                                                              name=f"lf-{uuid.uuid4().hex[:8]}", spec=spec))
    assert isinstance(fault, vim.fault.DeviceUnsupportedForVmVersion)
    assert (fault.currentVersion, fault.expectedVersion) == ("vmx-13", "vmx-17") and "version 17" in fault.msg
    vm = vms([])
    assert task_fault(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(version="vmx-17"))) is None
    assert vm.config.version == "vmx-13"
    assert isinstance(task_fault(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=add))),
                      vim.fault.DeviceUnsupportedForVmVersion)
    # ESXi 7.0.0 runs up to vmx-17: a newer version is an invalid one there.
    assert isinstance(task_fault(session, vm.UpgradeVM_Task(version="vmx-19")), vim.fault.InvalidState)
    assert task_fault(session, vm.UpgradeVM_Task(version="vmx-17")) is None and vm.config.version == "vmx-17"
    assert isinstance(task_fault(session, vm.UpgradeVM_Task(version="vmx-17")), vim.fault.AlreadyUpgraded)
    assert task_fault(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=add))) is None
    assert any(isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)
               for d in vm.config.hardware.device)


def test_a_bios_vm_with_a_large_bar_gpu_powers_on(session, vms, lab_objects):
    """vSphere does not refuse it: a BIOS VM with a 32 GB V100 and a 64-bit MMIO window powers on, and only its
    guest finds the GPU unusable (only EFI maps a 64 GB window). The lab powers it on too: only a client's
    own check (the toolkit's) refuses it before any change."""
    target = lab_objects.tmpl.environmentBrowser.QueryConfigTarget(host=lab_objects.host.ref)
    info = next(p for p in target.pciPassthrough if p.pciDevice.id == "0000:d8:00.0")
    dev = vim.vm.device.VirtualPCIPassthrough(key=-1, backing=vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(
        id=info.pciDevice.id, deviceId=format(info.pciDevice.deviceId & 0xFFFF, "x"), systemId=info.systemId,
        vendorId=info.pciDevice.vendorId, deviceName=info.pciDevice.deviceName))
    vm = vms([dev])
    wait_for_task(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(firmware="bios", extraConfig=[
        vim.option.OptionValue(key="pciPassthru.use64bitMMIO", value="TRUE"),
        vim.option.OptionValue(key="pciPassthru.64bitMMIOSizeGB", value="64")])))
    assert vm.config.firmware == "bios" and "32GB" in info.pciDevice.deviceName
    assert task_fault(session, vm.PowerOnVM_Task()) is None and vm.runtime.powerState == "poweredOn"


def test_dynamic_directpath_assigned_id_and_binding(session, vms):
    vm = vms([dynamic_gpu()], version="vmx-17")
    wait_for_task(session, vm.PowerOnVM_Task())
    backing = next(d.backing for d in vm.config.hardware.device
                   if isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo))
    assert backing.assignedId in ("0000:3b:00.0", "0000:d8:00.0")
    bindings = vm.runtime.host.config.assignableHardwareBinding
    assert [(b.instanceId, b.vm) for b in bindings] == [(backing.assignedId, vm)]
    wait_for_task(session, vm.PowerOffVM_Task())
    assert not vm.runtime.host.config.assignableHardwareBinding


def test_pvrdma_needs_a_prepared_host(session, vms, lab_objects):
    host = lab_objects.host.ref
    name = f"lf-dvs-{uuid.uuid4().hex[:6]}"
    member = vim.dvs.HostMember.ConfigSpec(operation="add", host=host, backing=vim.dvs.HostMember.PnicBacking(
        pnicSpec=[vim.dvs.HostMember.PnicSpec(pnicDevice="vmnic5")]))
    switch = wait_for_task(session, lab_objects.net_folder.CreateDVS_Task(spec=vim.DistributedVirtualSwitch.CreateSpec(
        configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name=name, host=[member]))))
    wait_for_task(session, switch.AddDVPortgroup_Task(spec=[vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        name=f"{name}-pg", type="earlyBinding", numPorts=8, autoExpand=True)]))
    pg = switch.portgroup[-1] if switch.portgroup[-1].name == f"{name}-pg" else switch.portgroup[0]
    card = vim.vm.device.VirtualVmxnet3Vrdma(key=-2, backing=vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
        port=vim.dvs.PortConnection(switchUuid=switch.uuid, portgroupKey=pg.key)))
    vm = vms([card])
    ns, options, firewall = host.configManager.networkSystem, host.configManager.advancedOption, \
        host.configManager.firewallSystem
    vmk = None
    try:
        assert options.QueryOptions(name="Net.PVRDMAVmknic")[0].value == ""
        assert "tagged for PVRDMA" in power_on_fault(session, vm)
        vmk = ns.AddVirtualNic(portgroup="", nic=vim.host.VirtualNic.Specification(
            ip=vim.host.IpConfig(dhcp=True), distributedVirtualPort=vim.dvs.PortConnection(
                switchUuid=switch.uuid, portgroupKey=pg.key)))
        options.UpdateOptions(changedValue=[vim.option.OptionValue(key="Net.PVRDMAVmknic", value=vmk)])
        assert "firewall ruleset pvrdma disabled" in power_on_fault(session, vm)
        firewall.EnableRuleset(id="pvrdma")
        assert next(r for r in host.config.firewall.ruleset if r.key == "pvrdma").enabled
        wait_for_task(session, vm.PowerOnVM_Task())
        wait_for_task(session, vm.PowerOffVM_Task())
        fault = task_fault(session, switch.Destroy_Task())   # the VM's adapter is on it
        assert isinstance(fault, vim.fault.ResourceInUse) and vm.name in fault.msg
        added = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualVmxnet3Vrdma))
        wait_for_task(session, vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="remove", device=added)])))
        fault = task_fault(session, switch.Destroy_Task())   # the VMkernel adapter is on it
        assert isinstance(fault, vim.fault.ResourceInUse) and vmk in fault.msg
    finally:
        if vmk:
            ns.RemoveVirtualNic(device=vmk)
        options.UpdateOptions(changedValue=[vim.option.OptionValue(key="Net.PVRDMAVmknic", value="")])
        firewall.DisableRuleset(id="pvrdma")
        wait_for_task(session, switch.Destroy_Task())


def test_a_vmkernel_adapter_address_is_static_or_dhcp(session, lab_objects):
    """HostIpConfig: with DHCP the address cannot be set (the lab's fabric has no DHCP server, so such an
    adapter has none); a static one needs an address and a netmask; UpdateVirtualNic changes it."""
    host = lab_objects.host.ref
    name = f"lf-vip-{uuid.uuid4().hex[:6]}"
    member = vim.dvs.HostMember.ConfigSpec(operation="add", host=host, backing=vim.dvs.HostMember.PnicBacking(
        pnicSpec=[vim.dvs.HostMember.PnicSpec(pnicDevice="vmnic5")]))
    switch = wait_for_task(session, lab_objects.net_folder.CreateDVS_Task(spec=vim.DistributedVirtualSwitch.CreateSpec(
        configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name=name, host=[member]))))
    wait_for_task(session, switch.AddDVPortgroup_Task(spec=[vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        name=f"{name}-pg", type="earlyBinding", numPorts=8, autoExpand=True)]))
    port = vim.dvs.PortConnection(switchUuid=switch.uuid, portgroupKey=switch.portgroup[0].key)
    ns = host.configManager.networkSystem
    vmk = None
    try:
        for ip, prop in [(vim.host.IpConfig(dhcp=True, ipAddress="10.9.0.1"), "nic.ip"),
                         (vim.host.IpConfig(dhcp=False, ipAddress="10.9.0.1"), "nic.ip.subnetMask")]:
            with pytest.raises(vmodl.fault.InvalidArgument) as info:
                ns.AddVirtualNic(portgroup="", nic=vim.host.VirtualNic.Specification(ip=ip, distributedVirtualPort=port))
            assert info.value.invalidProperty == prop
        vmk = ns.AddVirtualNic(portgroup="", nic=vim.host.VirtualNic.Specification(
            ip=vim.host.IpConfig(dhcp=True), distributedVirtualPort=port))
        vnic = next(v for v in host.config.network.vnic if v.device == vmk)
        assert vnic.spec.ip.dhcp and not vnic.spec.ip.ipAddress
        ns.UpdateVirtualNic(device=vmk, nic=vim.host.VirtualNic.Specification(
            ip=vim.host.IpConfig(dhcp=False, ipAddress="10.9.0.5", subnetMask="255.255.255.0")))
        vnic = next(v for v in host.config.network.vnic if v.device == vmk)
        assert (vnic.spec.ip.dhcp, vnic.spec.ip.ipAddress, vnic.spec.ip.subnetMask) == \
            (False, "10.9.0.5", "255.255.255.0")
        with pytest.raises(vim.fault.NotFound):
            ns.UpdateVirtualNic(device="vmk99", nic=vim.host.VirtualNic.Specification(mtu=9000))
    finally:
        if vmk:
            ns.RemoveVirtualNic(device=vmk)
        wait_for_task(session, switch.Destroy_Task())


def test_uplinks_and_versions(session, lab_objects):
    ns = lab_objects.host.get("configManager.networkSystem")
    try:
        with pytest.raises(vim.fault.ResourceInUse) as info:   # vmnic0 is vSwitch0's uplink
            ns.AddVirtualSwitch(vswitchName="lf-sw", spec=vim.host.VirtualSwitch.Specification(
                numPorts=64, bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=["vmnic0"])))
        assert "vmnic0" in info.value.msg
        ns.AddVirtualSwitch(vswitchName="lf-sw", spec=vim.host.VirtualSwitch.Specification(
            numPorts=64, mtu=9000, bridge=vim.host.VirtualSwitch.BondBridge(nicDevice=["vmnic1"])))
        try:
            sw = next(s for s in lab_objects.host.ref.config.network.vswitch if s.name == "lf-sw")
            assert sw.mtu == 9000 and sw.pnic == ["key-vim.host.PhysicalNic-vmnic1"]
            assert list(sw.spec.bridge.nicDevice) == ["vmnic1"]
            member = vim.dvs.HostMember.ConfigSpec(operation="add", host=lab_objects.host.ref,
                                                   backing=vim.dvs.HostMember.PnicBacking(
                                                       pnicSpec=[vim.dvs.HostMember.PnicSpec(pnicDevice="vmnic1")]))
            bulk = task_fault(session, lab_objects.net_folder.CreateDVS_Task(
                spec=vim.DistributedVirtualSwitch.CreateSpec(
                    configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name="lf-dvs", host=[member]))))
            assert isinstance(bulk, vim.fault.DvsOperationBulkFault) and "lf-sw" in bulk.msg
            assert isinstance(bulk.hostFault[0].fault, vim.fault.ResourceInUse)
        finally:
            ns.RemoveVirtualSwitch(vswitchName="lf-sw")
        old = vim.dvs.HostMember.ConfigSpec(operation="add", host=lab_objects.old.ref,
                                            backing=vim.dvs.HostMember.PnicBacking(pnicSpec=[]))
        fault = task_fault(session, lab_objects.net_folder.CreateDVS_Task(spec=vim.DistributedVirtualSwitch.CreateSpec(
            configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name="lf-dvs-v", host=[old]))))
        assert isinstance(fault, vim.fault.NotSupportedHostInDvs)
        assert fault.switchProductSpec.version == "7.0.0" and fault.productVersion == "6.7.0"
    finally:   # a refusal that broke leaves a switch in the shared lab
        if "lf-sw" in {s.name for s in lab_objects.host.ref.config.network.vswitch}:
            ns.RemoveVirtualSwitch(vswitchName="lf-sw")
        destroy_switches(session, "lf-dvs", "lf-dvs-v")


def test_vcenter_lists_the_switch_versions_it_creates(session, lab, lab_objects):
    """DistributedVirtualSwitchManager.QueryAvailableDvsSpec: what this vCenter creates (the lab's 7.0.0:
    6.5.0, 6.6.0, 7.0.0, the newest recommended); an older vCenter's list is what CreateDVS_Task takes."""
    manager = session.content.dvSwitchManager
    assert [s.version for s in manager.QueryAvailableDvsSpec()] == ["6.5.0", "6.6.0", "7.0.0"]
    assert [s.version for s in manager.QueryAvailableDvsSpec(recommended=True)] == ["7.0.0"]
    hosts = manager.QueryDvsCompatibleHostSpec(switchProductSpec=vim.dvs.ProductSpec(version="7.0.0"))
    assert hosts and all(h.version.startswith("7.") for h in hosts)
    lab.post("/debug/dvs-versions?versions=6.5.0,6.6.0")
    try:
        assert [s.version for s in manager.QueryAvailableDvsSpec()] == ["6.5.0", "6.6.0"]
        fault = task_fault(session, lab_objects.net_folder.CreateDVS_Task(spec=vim.DistributedVirtualSwitch.CreateSpec(
            productInfo=vim.dvs.ProductSpec(version="7.0.0"),
            configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name="lf-dvs-new"))))
        assert isinstance(fault, vmodl.fault.InvalidArgument) and "6.5.0, 6.6.0" in fault.msg
    finally:
        lab.post("/debug/dvs-versions?versions=")


def test_nvidia_lets_a_vm_hold_several_vgpus_only_of_one_whole_gpu_type(session, vms, lab_objects):
    """NVIDIA vGPU 14.0 on vSphere 7: several vGPUs per VM only of one Q- or C-series type with the whole
    frame buffer; the vGPU manager refuses the rest at power-on."""
    host5 = read_inventory(session, {"HostSystem": []}).find("HostSystem", "vhpc-esx-05.hpc.vmware.com")
    halves = vms([vgpu("grid_p100-8q"), vgpu("grid_p100-8q")], host=host5)
    assert "multiple vGPUs in a VM not supported" in power_on_fault(session, halves)
    mixed = vms([vgpu("grid_v100-16q"), vgpu("grid_v100-16c")], host=host5)
    assert "grid_v100-16q, grid_v100-16c" in power_on_fault(session, mixed)
    whole = vms([vgpu("grid_p100-16q"), vgpu("grid_v100-16q")], host=host5)   # different boards
    assert "multiple vGPUs" in power_on_fault(session, whole)


def test_vmotion_of_a_vgpu_vm_needs_vcenters_setting(session, vms, lab_objects):
    """vCenter vMotions a running vGPU VM only with its advanced setting vgpu.hotmigrate.enabled true."""
    setting = session.content.setting
    assert setting.QueryOptions(name="vgpu.hotmigrate.enabled")[0].value == "false"
    vm = vms([vgpu("grid_v100-8q")])
    wait_for_task(session, vm.PowerOnVM_Task())
    other = read_inventory(session, {"HostSystem": []}).find("HostSystem", "vhpc-esx-07.hpc.vmware.com").ref
    fault = task_fault(session, vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=other)))
    assert isinstance(fault, vim.fault.DisallowedMigrationDeviceAttached) and "hot migration is not enabled" in fault.msg
    setting.UpdateOptions(changedValue=[vim.option.OptionValue(key="vgpu.hotmigrate.enabled", value="true")])
    try:
        assert task_fault(session, vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=other))) is None
        assert vm.runtime.host == other
    finally:
        setting.UpdateOptions(changedValue=[vim.option.OptionValue(key="vgpu.hotmigrate.enabled", value="false")])
