"""What govc and Ansible's community.vmware do on the lab, with pyVmomi alone (govc cannot be built in
CI): the same calls, read the way those clients read them, answered as vCenter answers them.

Each test names the client behaviour it stands for. Everything made here is removed afterwards: the
lab is shared by the test session.
"""
from __future__ import annotations

import time
import uuid

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

from tests.integration.test_lab_search import by_name

GPU_CLUSTER = "COMPUTE_GPU_Cluster"
AUTH = vim.vm.guest.NamePasswordAuthentication(username="root", password="VMware1!")
PC = vmodl.query.PropertyCollector


def run(task):
    WaitForTask(task)
    return task.info.result


def retrieve(content, objs, kind, paths=None):
    """One RetrieveContents, as govc object.collect and Ansible's readers do (all properties unless paths)."""
    spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=o) for o in objs],
                         propSet=[PC.PropertySpec(type=kind, all=paths is None, pathSet=paths or [])])
    return content.propertyCollector.RetrieveContents([spec])


def wait(predicate, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def si(lab):
    si = lab.connect_plain()
    yield si
    from pyVim.connect import Disconnect
    Disconnect(si)


@pytest.fixture(scope="module")
def content(si):
    return si.RetrieveContent()


@pytest.fixture(scope="module")
def gpu(content):
    return by_name(content, vim.ClusterComputeResource, GPU_CLUSTER)


@pytest.fixture(scope="module")
def vm(content, gpu):
    """vmware_guest with cluster: and no esxi_hostname: a clone of the template into the GPU cluster's
    pool, powered on, Tools up."""
    template = by_name(content, vim.VirtualMachine, "vhpc_clone")
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=gpu.resourcePool), powerOn=True)
    made = run(template.CloneVM_Task(folder=template.parent, name=f"clients-{uuid.uuid4().hex[:6]}", spec=spec))
    # as vmware_vm_shell does: Tools running is not enough, the guest operations agent must answer
    wait(lambda: made.guest.toolsRunningStatus == "guestToolsRunning" and made.guest.ipAddress
         and made.guest.guestOperationsReady, "Tools, an address and guest operations")
    yield made
    run(made.PowerOffVM_Task())
    run(made.Destroy_Task())


def test_clone_with_a_pool_and_no_host_lands_in_the_pools_cluster(vm, gpu):
    assert vm.runtime.host in gpu.host
    assert vm.resourcePool == gpu.resourcePool


def test_inventory_reads_whole_objects(content):
    """govc object.collect / Ansible's *_info: every property of every kind of object decodes."""
    kinds = [vim.Folder, vim.Datacenter, vim.ClusterComputeResource, vim.HostSystem, vim.VirtualMachine,
             vim.Datastore, vim.Network, vim.ResourcePool]
    view = content.viewManager.CreateContainerView(content.rootFolder, kinds, True)
    try:
        for kind in kinds:
            objs = [o for o in view.view if isinstance(o, kind)][:3]
            for oc in retrieve(content, objs, kind):
                assert not oc.missingSet, (oc.obj, oc.missingSet)
    finally:
        view.DestroyView()


def test_every_config_manager_exists(content):
    """vmware_host_service_info, _ntp_info, _package_info, vmware_vmkernel_info... read these."""
    host = by_name(content, vim.HostSystem, "vhpc-esx-02.hpc.vmware.com")
    cm = host.configManager
    refs = [getattr(cm, p.name) for p in cm._GetPropertyList()]
    refs = [r for r in refs if isinstance(r, vim.ManagedObject)]
    assert len(refs) >= 30
    for ref in refs:
        retrieve(content, [ref], type(ref))          # ManagedObjectNotFound before
    assert {s.key for s in cm.serviceSystem.serviceInfo.service} >= {"TSM-SSH", "ntpd", "vpxa"}
    assert all(s.sourcePackage.sourcePackageName for s in cm.serviceSystem.serviceInfo.service)
    assert cm.dateTimeSystem.dateTimeInfo.timeZone.key == "UTC"
    assert cm.imageConfigManager.HostImageConfigGetAcceptance() == "partner"
    assert any(p.name == "esx-base" for p in cm.imageConfigManager.FetchSoftwarePackages())
    management = cm.virtualNicManager.QueryNetConfig("management")
    assert [k.split("-")[-1] for k in management.selectedVnic] == ["vmk0"]
    assert cm.virtualNicManager.QueryNetConfig("vmotion").selectedVnic == []
    assert cm.vsanSystem.QueryHostStatus().nodeState.state == "disabled"
    assert cm.cpuScheduler.hyperthreadInfo.active is True
    assert "Net.PVRDMAVmknic" in [o.key for o in cm.advancedOption.supportedOption]  # vmware_host_config_manager


def test_host_facts_as_ansible_reads_them(content):
    """vmware_host_capability_info, vmware_host_vmnic_info, vmware_host_facts."""
    host = by_name(content, vim.HostSystem, "vhpc-esx-02.hpc.vmware.com")
    assert host.capability.recursiveResourcePoolsSupported and host.capability.vmotionSupported
    assert host.capability.assignableHardwareSupported is True
    old = by_name(content, vim.HostSystem, "vhpc-esx-01.hpc.vmware.com")
    assert old.capability.assignableHardwareSupported is False         # ESXi 6.7
    ns = host.configManager.networkSystem
    assert sorted(p.device for p in ns.networkConfig.pnic) == [f"vmnic{i}" for i in range(6)]
    assert [p.device for p in ns.networkInfo.pnic] == [p.device for p in host.config.network.pnic]
    assert "vSwitch0" in [v.name for v in ns.networkConfig.vswitch]


def test_cluster_as_ansible_reads_it(content, gpu):
    """vmware_cluster_info: HA, DRS, vSAN settings and GetResourceUsage; totals are the hosts' sums."""
    cfg = gpu.configurationEx
    assert cfg.dasConfig.enabled is False and cfg.drsConfig.enabled is True
    assert cfg.vsanConfigInfo.enabled is False and cfg.vsanConfigInfo.defaultConfig.autoClaimStorage is False
    hw = [h.summary.hardware for h in gpu.host]
    mhz = sum(h.cpuMhz * h.numCpuCores for h in hw)
    assert gpu.summary.numCpuCores == sum(h.numCpuCores for h in hw)
    assert gpu.summary.totalCpu == mhz and gpu.summary.numCpuThreads == sum(h.numCpuThreads for h in hw)
    usage = gpu.GetResourceUsage()
    assert usage.cpuCapacityMHz == mhz and usage.memCapacityMB == gpu.summary.effectiveMemory
    assert usage.storageCapacityMB > 0
    root = gpu.resourcePool
    assert root.config.cpuAllocation.limit == mhz and root.runtime.cpu.maxUsage == mhz
    assert root.config.entity == root


def test_drs_rules_and_groups_as_vcenter_keeps_them(content, gpu, vm):
    """vmware_drs_rule_info reads configuration.rule; vmware_drs_group_info after a VM is destroyed."""
    template = by_name(content, vim.VirtualMachine, "vhpc_clone")
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=gpu.resourcePool))
    other = run(template.CloneVM_Task(folder=template.parent, name=f"clients-g-{uuid.uuid4().hex[:6]}", spec=spec))
    name = f"clients-{uuid.uuid4().hex[:6]}"
    add = vim.option.ArrayUpdateSpec.Operation.add
    run(gpu.ReconfigureComputeResource_Task(vim.cluster.ConfigSpecEx(
        groupSpec=[vim.cluster.GroupSpec(operation=add, info=vim.cluster.VmGroup(name=name, vm=[vm, other]))],
        rulesSpec=[vim.cluster.RuleSpec(operation=add, info=vim.cluster.AntiAffinityRuleSpec(
            name=name, enabled=True, vm=[vm, other]))]), True))
    try:
        assert [r.name for r in gpu.configuration.rule] == [r.name for r in gpu.configurationEx.rule]
        assert name in [r.name for r in gpu.configuration.rule]
        run(other.Destroy_Task())
        group = next(g for g in gpu.configurationEx.group if g.name == name)
        assert group.vm == [vm]
        for g in gpu.configurationEx.group:                        # every reference still resolves
            assert all(v.name for v in getattr(g, "vm", []) or [])
    finally:
        rule = next(r for r in gpu.configurationEx.rule if r.name == name)
        remove = vim.option.ArrayUpdateSpec.Operation.remove
        run(gpu.ReconfigureComputeResource_Task(vim.cluster.ConfigSpecEx(
            groupSpec=[vim.cluster.GroupSpec(operation=remove, removeKey=name)],
            rulesSpec=[vim.cluster.RuleSpec(operation=remove, removeKey=rule.key)]), True))


def test_tools_info_as_ansible_reads_it(vm):
    """vmware_guest_tools_info reads config.tools.lastInstallInfo.counter."""
    assert vm.config.tools.lastInstallInfo.counter == 0
    assert vm.config.tools.toolsInstallType == "guestToolsTypeOpenVMTools"
    assert str(vm.config.tools.toolsVersion) == vm.guest.toolsVersion


def program_info(content, vm, args):
    pm = content.guestOperationsManager.processManager
    pid = pm.StartProgramInGuest(vm, AUTH, vim.vm.guest.ProcessManager.ProgramSpec(programPath="/bin/sh",
                                                                                  arguments=args))
    infos = []
    wait(lambda: infos.append(pm.ListProcessesInGuest(vm, AUTH, [pid])[0]) or infos[-1].endTime, "the program's end")
    return infos[-1]


def test_a_program_that_exits_0_has_exit_code_0(content, vm):
    """vmware_vm_shell waits for exitCode: unset while running, 0 once ended (it timed out before)."""
    assert program_info(content, vm, "-c true").exitCode == 0
    assert program_info(content, vm, "-c 'exit 3'").exitCode == 3


def test_guest_file_operations(content, vm, lab):
    """vmware_guest_file_operation (directory create/delete) and the vmware_tools connection plugin."""
    fm = content.guestOperationsManager.fileManager
    fm.MakeDirectoryInGuest(vm, AUTH, "/tmp/clients/a", True)
    path = fm.CreateTemporaryFileInGuest(vm, AUTH, "ans-", ".txt", "/tmp/clients/a")
    listed = fm.ListFilesInGuest(vm, AUTH, "/tmp/clients/a")
    assert [f.path for f in listed.files] == [path.rsplit("/", 1)[1]] and listed.remaining == 0
    fm.MoveFileInGuest(vm, AUTH, path, "/tmp/clients/moved", False)
    with pytest.raises(vim.fault.DirectoryNotEmpty):
        fm.DeleteDirectoryInGuest(vm, AUTH, "/tmp/clients", False)
    with pytest.raises(vim.fault.NotAFile):
        fm.DeleteFileInGuest(vm, AUTH, "/tmp/clients/a")
    fm.DeleteFileInGuest(vm, AUTH, "/tmp/clients/moved")
    fm.DeleteDirectoryInGuest(vm, AUTH, "/tmp/clients", True)
    with pytest.raises(vim.fault.FileNotFound):
        fm.ListFilesInGuest(vm, AUTH, "/tmp/clients")
    env = content.guestOperationsManager.processManager.ReadEnvironmentVariableInGuest(vm, AUTH, ["HOME"])
    assert env == ["HOME=/root"]
    # Nothing leaves the VM's folder: /.. is /, as in the guest.
    fm.MakeDirectoryInGuest(vm, AUTH, "/../../../clients-escape", False)
    assert (lab.guest_root / vm.name / "clients-escape").is_dir()
    assert not (lab.guest_root.parent / "clients-escape").exists()
    fm.DeleteDirectoryInGuest(vm, AUTH, "/clients-escape", False)
    with pytest.raises(vim.fault.GuestPermissionDenied):
        fm.MakeDirectoryInGuest(vm, AUTH, "/usr/clients", False)


def test_reboot_guest(vm):
    """vmware_guest_powerstate state: reboot-guest (MethodNotFound before)."""
    vm.RebootGuest()
    assert vm.runtime.powerState == "poweredOn"
    wait(lambda: vm.guest.toolsRunningStatus != "guestToolsRunning", "Tools to stop", 5)
    with pytest.raises(vim.fault.ToolsUnavailable):
        vm.RebootGuest()
    wait(lambda: vm.guest.toolsRunningStatus == "guestToolsRunning" and vm.guest.ipAddress, "Tools again")


def test_collector_refuses_what_vcenter_refuses(content, vm):
    """A wait on a task that is gone fails (it blocked forever); a misspelt property fails."""
    pc = content.propertyCollector.CreatePropertyCollector()
    try:
        gone = vim.Task("task-gone", content.propertyCollector._stub)
        with pytest.raises(vmodl.fault.ManagedObjectNotFound):
            pc.CreateFilter(PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=gone)],
                                          propSet=[PC.PropertySpec(type=vim.Task, pathSet=["info.state"])]), True)
        with pytest.raises(vmodl.query.InvalidProperty):
            retrieve(content, [vm], vim.VirtualMachine, ["runtime.powerstate"])
        hosts = list(vm.runtime.host.parent.host)[:5]
        pc.CreateFilter(PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=h) for h in hosts],
                                      propSet=[PC.PropertySpec(type=vim.HostSystem, pathSet=["name"])]), True)
        seen, version, truncated = 0, "", True
        while truncated:
            update = pc.WaitForUpdatesEx(version, PC.WaitOptions(maxWaitSeconds=0, maxObjectUpdates=2))
            version, truncated = update.version, bool(update.truncated)
            n = sum(len(f.objectSet) for f in update.filterSet)
            assert n <= 2
            seen += n
        assert seen == len(hosts)
    finally:
        pc.DestroyPropertyCollector()


def test_distributed_switch_as_ansible_reads_it(content):
    """vmware_dvswitch_info, vmware_dvs_portgroup_info, vmware_dvs_portgroup (reconfigure), vmware_dvs_host
    (FetchDVPorts of the uplinks)."""
    dc = by_name(content, vim.Datacenter, "HPC_Datacenter")
    host = by_name(content, vim.HostSystem, "vhpc-esx-05.hpc.vmware.com")
    name = f"clients-dvs-{uuid.uuid4().hex[:6]}"
    member = vim.dvs.HostMember.ConfigSpec(operation="add", host=host, backing=vim.dvs.HostMember.PnicBacking(
        pnicSpec=[vim.dvs.HostMember.PnicSpec(pnicDevice="vmnic3")]))
    dvs = run(dc.networkFolder.CreateDVS_Task(vim.DistributedVirtualSwitch.CreateSpec(
        configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name=name, host=[member]))))
    try:
        cfg = dvs.config
        assert len(cfg.uplinkPortPolicy.uplinkPortName) == 4
        assert cfg.linkDiscoveryProtocolConfig.protocol == "cdp" and cfg.ipfixConfig.activeFlowTimeout == 60
        assert cfg.defaultPortConfig.securityPolicy.forgedTransmits.value is False
        run(dvs.AddDVPortgroup_Task([vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
            name=name + "-pg", type="earlyBinding", numPorts=8)]))
        pg = next(p for p in dvs.portgroup if p.name == name + "-pg")
        setting = pg.config.defaultPortConfig
        assert setting.securityPolicy.inherited and setting.macManagementPolicy.forgedTransmits is False
        assert setting.uplinkTeamingPolicy.policy.value == "loadbalance_srcid"
        run(pg.ReconfigureDVPortgroup_Task(vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
            configVersion=pg.config.configVersion, description="kept")))
        assert pg.config.numPorts == 8 and pg.config.description == "kept"
        assert pg.config.defaultPortConfig.securityPolicy is not None
        uplinks = dvs.FetchDVPorts(vim.dvs.PortCriteria(uplinkPort=True, host=[host]))
        uplink_pg = dvs.config.uplinkPortgroup[0]
        assert len(uplinks) == 4 and all(p.key in uplink_pg.portKeys for p in uplinks)
        ports = dvs.FetchDVPorts(vim.dvs.PortCriteria(portgroupKey=[pg.key]))
        assert sorted(p.key for p in ports) == sorted(pg.portKeys) and len(ports) == 8
        assert not set(pg.portKeys) & set(uplink_pg.portKeys)
    finally:
        run(dvs.Destroy_Task())


def test_register_vm_keeps_its_configuration(content, gpu):
    """vmware_guest_register_operation: absent, then present from the .vmx."""
    template = by_name(content, vim.VirtualMachine, "vhpc_clone")
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=gpu.resourcePool),
                            config=vim.vm.ConfigSpec(numCPUs=3, memoryMB=6144))
    made = run(template.CloneVM_Task(folder=template.parent, name=f"clients-r-{uuid.uuid4().hex[:6]}", spec=spec))
    path, name, host, devices = made.config.files.vmPathName, made.name, made.runtime.host, made.config.hardware.device
    made.UnregisterVM()
    again = run(template.parent.RegisterVM_Task(path=path, name=name, asTemplate=False, pool=gpu.resourcePool,
                                                host=host))
    try:
        assert again.config.hardware.numCPU == 3 and again.config.hardware.memoryMB == 6144
        assert [d.key for d in again.config.hardware.device] == [d.key for d in devices]
        assert again.guest.net[0].macAddress == devices[-1].macAddress
    finally:
        run(again.Destroy_Task())


def test_tasks_and_events_as_clients_read_them(content, vm):
    """pyVmomi's TaskManager.recentTask after a snapshot revert, govc tasks (the history collector),
    QueryEvents with a time filter."""
    snap = run(vm.CreateSnapshot_Task(name="clients", memory=False, quiesce=False))
    revert = snap.RevertToSnapshot_Task()
    WaitForTask(revert)
    assert revert.info.entity == vm and revert.info.entityName == vm.name
    for task in content.taskManager.recentTask:             # a TypeError in pyVmomi before
        task.info.entity
    collector = content.taskManager.CreateCollectorForTasks(vim.TaskFilterSpec(
        entity=vim.TaskFilterSpec.ByEntity(entity=vm, recursion="self")))
    try:
        assert collector.latestPage[0].key == revert.info.key
        assert all(t.entity == vm for t in collector.latestPage)
    finally:
        collector.DestroyCollector()
    run(snap.RemoveSnapshot_Task(removeChildren=False))
    everything = content.eventManager.QueryEvents(vim.event.EventFilterSpec())
    assert len(everything) > 10                             # the newest 10 only before
    since = sorted(e.createdTime for e in everything)[len(everything) // 2]
    events = content.eventManager.QueryEvents(vim.event.EventFilterSpec(time=vim.event.EventFilterSpec.ByTime(
        beginTime=since)))
    assert 0 < len(events) < len(everything) and all(e.createdTime >= since for e in events)


def test_device_keys_and_labels(vm):
    """govc device.ls, Ansible's vmware_guest_network and vmware_guest_disk_info."""
    devices = {d.deviceInfo.label: d for d in vm.config.hardware.device}
    nic, disk, scsi = devices["Network adapter 1"], devices["Hard disk 1"], devices["SCSI controller 0"]
    assert (nic.key, nic.unitNumber, disk.key, scsi.key) == (4000, 7, 2000, 1000)
    assert nic.deviceInfo.summary == "vHPC-PG-VMNetwork"


def test_session_cookie_as_vcenter_sets_it(si):
    assert si._stub.cookie.startswith('vmware_soap_session="')
    assert "Path=/" in si._stub.cookie
