"""Third-party searches after the lab's own methods have run, with pyVmomi directly (not the toolkit).

Ansible's vmware_guest and pyVmomi scripts find VMs through SearchIndex; the lab used to fail
those calls as soon as any VM had been cloned or reconfigured (sim/routes.go). Every search here
must give the right answer, and walks of the whole inventory must show nothing lab-internal.
Everything made here is removed afterwards: the lab is shared by the test session.
"""
from __future__ import annotations

import json
import ssl
import urllib.request
import uuid
from types import SimpleNamespace

import pytest
from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

HOST = "vhpc-esx-07.hpc.vmware.com"
HOST_ADDRESS = "127.10.0.7"             # the lab's vmk0 address of host 07
IP1, IP2 = "192.0.2.77", "192.0.2.78"  # the customized addresses of the VM's two adapters
GUEST_AUTH = vim.vm.guest.NamePasswordAuthentication(username="root", password="VMware1!")


def by_name(content, kind, name):
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        found = [o for o in view.view if o.name == name]
    finally:
        view.DestroyView()
    assert len(found) == 1, (kind, name, found)
    return found[0]


def wait_for_property(content, obj, prop, wanted, rounds=30):
    """Wait (WaitForUpdatesEx on a private collector) until obj's prop is wanted; returns its value."""
    pc = content.propertyCollector.CreatePropertyCollector()
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=obj)],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=type(obj), pathSet=[prop])])
    pc.CreateFilter(spec, True)
    version, value = "", None
    try:
        for _ in range(rounds):
            update = pc.WaitForUpdatesEx(version, vmodl.query.PropertyCollector.WaitOptions(maxWaitSeconds=10))
            if update is None:
                continue
            version = update.version
            for fs in update.filterSet:
                for os_ in fs.objectSet:
                    for change in os_.changeSet:
                        value = change.val
            if value == wanted:
                return value
    finally:
        pc.DestroyPropertyCollector()
    raise AssertionError(f"{obj}.{prop} is {value!r}, not {wanted!r}")


def run(task):
    """Wait for task (raising its fault) and return its result."""
    WaitForTask(task)
    return task.info.result


def nic(pg):
    backing = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=pg)
    return vim.vm.device.VirtualDeviceSpec(operation="add", device=vim.vm.device.VirtualVmxnet3(backing=backing))


@pytest.fixture(scope="module")
def world(session):
    """Calls every method the lab implements itself, QueryConfigTarget and a guest operation; leaves
    two booted VMs on HOST (the first customized: name, two fixed addresses), a port group, a DVS."""
    content = session.content
    tag = uuid.uuid4().hex[:6]
    dc = by_name(content, vim.Datacenter, "HPC_Datacenter")
    host = by_name(content, vim.HostSystem, HOST)
    pool = by_name(content, vim.ClusterComputeResource, "COMPUTE_GPU_Cluster").resourcePool
    tmpl = by_name(content, vim.VirtualMachine, "vhpc_clone")
    w = SimpleNamespace(dc=dc, host=host, pg=f"search-pg-{tag}", guest_name=f"search-{tag}", vms=[], dvs=None)
    ns = host.configManager.networkSystem
    sw = f"search-sw-{tag}"
    try:
        ns.AddVirtualSwitch(vswitchName=sw, spec=vim.host.VirtualSwitch.Specification(numPorts=64))
        ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(name=w.pg, vlanId=0, vswitchName=sw,
                                                                 policy=vim.host.NetworkPolicy()))
        member = vim.dvs.HostMember.ConfigSpec(operation="add", host=host)
        w.dvs = run(dc.networkFolder.CreateDVS_Task(vim.DistributedVirtualSwitch.CreateSpec(
            configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name=f"search-dvs-{tag}", host=[member]))))
        WaitForTask(w.dvs.AddDVPortgroup_Task([vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
            name=f"search-dvpg-{tag}", type="earlyBinding", numPorts=4)]))
        dvpg = [pg for pg in w.dvs.portgroup if pg.name == f"search-dvpg-{tag}"][0]
        WaitForTask(dvpg.Destroy_Task())

        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool, host=host),
                                config=vim.vm.ConfigSpec(memoryMB=512, deviceChange=[nic(w.pg)]), powerOn=False)
        w.vm = run(tmpl.CloneVM_Task(folder=dc.vmFolder, name=f"search-vm-{tag}", spec=spec))
        w.vms.append(w.vm)
        adapters = [vim.vm.customization.AdapterMapping(adapter=vim.vm.customization.IPSettings(
            ip=vim.vm.customization.FixedIp(ipAddress=ip), subnetMask="255.255.255.0")) for ip in (IP1, IP2)]
        WaitForTask(w.vm.CustomizeVM_Task(spec=vim.vm.customization.Specification(
            identity=vim.vm.customization.LinuxPrep(hostName=vim.vm.customization.FixedName(name=w.guest_name),
                                                    domain="hpc.local"),
            globalIPSettings=vim.vm.customization.GlobalIPSettings(), nicSettingMap=adapters)))
        WaitForTask(w.vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(numCPUs=2)))
        WaitForTask(dc.PowerOnMultiVM_Task(vm=[w.vm]))
        wait_for_property(content, w.vm, "guest.ipAddress", IP1)

        spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool, host=host),
                                config=vim.vm.ConfigSpec(memoryMB=512), powerOn=True)
        w.vm2 = run(tmpl.CloneVM_Task(folder=dc.vmFolder, name=f"search-vm2-{tag}", spec=spec))
        w.vms.append(w.vm2)
        wait_for_property(content, w.vm2, "guest.toolsRunningStatus", "guestToolsRunning")
        w.ip2 = w.vm2.guest.ipAddress

        assert w.vm.environmentBrowser.QueryConfigTarget(host=host) is not None
        pm = content.guestOperationsManager.processManager
        assert pm.ListProcessesInGuest(vm=w.vm, auth=GUEST_AUTH) == []
        yield w
    finally:
        for vm in w.vms:
            if vm.runtime.powerState == "poweredOn":
                WaitForTask(vm.PowerOffVM_Task())
            WaitForTask(vm.Destroy_Task())
        if w.dvs is not None:
            WaitForTask(w.dvs.Destroy_Task())
        try:
            ns.RemoveVirtualSwitch(vswitchName=sw)
        except vim.fault.NotFound:
            pass


@pytest.fixture
def si(session):
    return session.content.searchIndex


def moids(objs):
    return sorted(o._moId for o in objs)


def test_find_by_uuid(world, si):
    vm, host = world.vm, world.host
    assert si.FindByUuid(uuid=vm.config.uuid, vmSearch=True) == vm
    assert si.FindByUuid(datacenter=world.dc, uuid=vm.config.uuid.upper(), vmSearch=True, instanceUuid=False) == vm
    assert si.FindByUuid(uuid=vm.config.instanceUuid, vmSearch=True, instanceUuid=True) == vm
    assert si.FindByUuid(uuid=vm.config.uuid, vmSearch=True, instanceUuid=True) is None   # not an instance uuid
    assert si.FindByUuid(uuid=world.vm2.config.uuid, vmSearch=True) == world.vm2
    assert si.FindByUuid(uuid=host.hardware.systemInfo.uuid, vmSearch=False) == host
    assert si.FindByUuid(uuid=vm.config.uuid, vmSearch=False) is None                     # no host has it
    assert si.FindByUuid(uuid=str(uuid.uuid4()), vmSearch=True) is None


def test_find_all_by_uuid(world, si):
    vm, host = world.vm, world.host
    assert moids(si.FindAllByUuid(uuid=vm.config.uuid, vmSearch=True)) == [vm._moId]
    assert moids(si.FindAllByUuid(datacenter=world.dc, uuid=vm.config.instanceUuid, vmSearch=True,
                                  instanceUuid=True)) == [vm._moId]
    assert moids(si.FindAllByUuid(uuid=host.hardware.systemInfo.uuid, vmSearch=False)) == [host._moId]
    assert si.FindAllByUuid(uuid=str(uuid.uuid4()), vmSearch=True) == []


def test_find_by_ip(world, si):
    assert si.FindByIp(ip=IP1, vmSearch=True) == world.vm
    assert si.FindByIp(datacenter=world.dc, ip=IP2, vmSearch=True) == world.vm   # the second adapter's address
    assert si.FindByIp(ip=world.ip2, vmSearch=True) == world.vm2
    assert si.FindByIp(ip="192.0.2.250", vmSearch=True) is None
    assert moids(si.FindAllByIp(ip=IP1, vmSearch=True)) == [world.vm._moId]
    assert world.host.config.network.vnic[0].spec.ip.ipAddress == HOST_ADDRESS
    assert si.FindByIp(ip=HOST_ADDRESS, vmSearch=False) == world.host
    assert moids(si.FindAllByIp(ip=HOST_ADDRESS, vmSearch=False)) == [world.host._moId]


def test_find_by_dns_name(world, si):
    assert world.vm.guest.hostName == world.guest_name
    assert si.FindByDnsName(dnsName=world.guest_name, vmSearch=True) == world.vm
    assert moids(si.FindAllByDnsName(datacenter=world.dc, dnsName=world.guest_name, vmSearch=True)) == [world.vm._moId]
    assert si.FindByDnsName(dnsName="no-such-guest", vmSearch=True) is None
    assert si.FindByDnsName(dnsName=HOST, vmSearch=False) == world.host
    assert moids(si.FindAllByDnsName(dnsName=HOST, vmSearch=False)) == [world.host._moId]


def test_find_by_path_and_child(world, si):
    vm = world.vm
    assert si.FindByDatastorePath(datacenter=world.dc, path=vm.config.files.vmPathName) == vm
    assert si.FindByInventoryPath(inventoryPath=f"HPC_Datacenter/vm/{vm.name}") == vm
    assert si.FindByInventoryPath(inventoryPath=f"HPC_Datacenter/host/COMPUTE_GPU_Cluster/{HOST}") == world.host
    assert si.FindByInventoryPath(inventoryPath=f"HPC_Datacenter/network/{world.dvs.name}") == world.dvs
    assert isinstance(si.FindByInventoryPath(inventoryPath=f"HPC_Datacenter/network/{world.pg}"), vim.Network)
    assert si.FindByInventoryPath(inventoryPath="HPC_Datacenter/vm/no-such-vm") is None
    assert si.FindChild(entity=world.dc.vmFolder, name=world.vm2.name) == world.vm2
    assert si.FindChild(entity=world.dc, name="vm") == world.dc.vmFolder


def test_inventory_walks_show_nothing_lab_internal(world, session, lab):
    content = session.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [], True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[
                vmodl.query.PropertyCollector.TraversalSpec(name="v", type=vim.view.ContainerView, path="view")])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.ManagedEntity, pathSet=["name"])])
        result = content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
    finally:
        view.DestroyView()
    objs = [o.obj for o in result.objects]
    while result.token:
        result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token)
        objs += [o.obj for o in result.objects]
    seen = {o._moId: type(o).__name__ for o in objs}
    assert not [t for t in seen.values() if "Lab" in t]
    for thing in (world.vm, world.vm2, world.host, world.dvs):
        assert thing._moId in seen

    ctx = ssl.create_default_context(cafile=lab.settings["ca_file"])
    with urllib.request.urlopen(lab.url + "/about", context=ctx, timeout=10) as resp:
        types = json.load(resp)["Types"]
    assert not [t for t in types if t.startswith("Lab")]
