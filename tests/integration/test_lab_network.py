"""The lab's networking, driven with pyVmomi directly: one standard port group name on many hosts,
DVS members at creation, DVS ports needing only the VM's own host as a member, DVS destroy."""
from __future__ import annotations

import uuid

import pytest
from pyVmomi import vim

from vhpc_toolkit.errors import TaskFailed
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

HOSTS = [f"vhpc-esx-0{i}.hpc.vmware.com" for i in (4, 5, 6)]
PROPS = {"Datacenter": ["vmFolder", "networkFolder", "network"], "ClusterComputeResource": ["resourcePool", "host"],
         "HostSystem": ["configManager.networkSystem", "network"], "VirtualMachine": ["environmentBrowser"],
         "Network": ["host"], "DistributedVirtualSwitch": ["uuid", "summary.hostMember", "portgroup"],
         "VmwareDistributedVirtualSwitch": ["uuid", "summary.hostMember", "portgroup"],
         "DistributedVirtualPortgroup": ["key", "config.distributedVirtualSwitch", "host"]}


def inv(session):
    return read_inventory(session, PROPS)


@pytest.fixture
def made(session):
    """Everything a test creates, removed afterwards (the lab is shared by the session)."""
    things = {"vms": [], "portgroups": [], "switches": [], "dvs": []}
    yield things
    for vm in things["vms"]:
        try:
            wait_for_task(session, vm.Destroy_Task())
        except Exception:
            pass
    for ns, pg in things["portgroups"]:
        try:
            ns.RemovePortGroup(pgName=pg)
        except vim.fault.NotFound:
            pass
    for ns, sw in things["switches"]:
        try:
            ns.RemoveVirtualSwitch(vswitchName=sw)
        except vim.fault.NotFound:
            pass
    for dvs in things["dvs"]:
        try:
            wait_for_task(session, dvs.Destroy_Task())
        except Exception:
            pass


def destroy_made_vms(session, made):
    for vm in made["vms"]:
        wait_for_task(session, vm.Destroy_Task())
    made["vms"].clear()


def test_management_switch_is_in_use(session):
    """vSwitch0 carries vmk0 (the host's management address): ESXi refuses to remove it."""
    s = inv(session)
    ns = s.find("HostSystem", HOSTS[0]).get("configManager.networkSystem")
    with pytest.raises(vim.fault.ResourceInUse, match="VMkernel adapter vmk0"):
        ns.RemoveVirtualSwitch(vswitchName="vSwitch0")
    assert "vSwitch0" in {v.name for v in ns.networkInfo.vswitch}


def clone(session, made, name, host, device):
    """Clone the template onto host with one more adapter; returns the VM."""
    s = inv(session)
    dc = s.of_type("Datacenter")[0]
    pool = s.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")
    tmpl = s.find("VirtualMachine", "vhpc_clone").ref
    spec = vim.vm.CloneSpec(
        location=vim.vm.RelocateSpec(pool=pool, host=s.find("HostSystem", host).ref),
        config=vim.vm.ConfigSpec(deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", device=device)]))
    vm = wait_for_task(session, tmpl.CloneVM_Task(folder=dc.get("vmFolder"), name=name, spec=spec))
    made["vms"].append(vm)
    return vm


def vmxnet3_on(pg):
    return vim.vm.device.VirtualVmxnet3(backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=pg))


def pvrdma_on(switch_uuid, pg_key):
    port = vim.dvs.PortConnection(switchUuid=switch_uuid, portgroupKey=pg_key)
    return vim.vm.device.VirtualVmxnet3Vrdma(
        backing=vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(port=port))


def networks_named(s, name):
    return [o for o in s.of_type("Network") if o.name == name]


def test_same_port_group_on_three_hosts(session, made):
    sw, pg = f"lab-sw-{uuid.uuid4().hex[:6]}", f"lab-pg-{uuid.uuid4().hex[:6]}"
    s = inv(session)
    systems = {h: s.find("HostSystem", h).get("configManager.networkSystem") for h in HOSTS}
    for h in HOSTS:
        ns = systems[h]
        ns.AddVirtualSwitch(vswitchName=sw, spec=vim.host.VirtualSwitch.Specification(numPorts=128))
        made["switches"].append((ns, sw))
        ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(name=pg, vlanId=0, vswitchName=sw,
                                                                 policy=vim.host.NetworkPolicy()))
        made["portgroups"].append((ns, pg))
    with pytest.raises(vim.fault.AlreadyExists):
        systems[HOSTS[0]].AddPortGroup(portgrp=vim.host.PortGroup.Specification(
            name=pg, vlanId=0, vswitchName=sw, policy=vim.host.NetworkPolicy()))

    s = inv(session)
    net, = networks_named(s, pg)
    assert sorted(s.by_ref(h).name for h in net.get("host")) == HOSTS
    assert sum(1 for r in s.of_type("Datacenter")[0].get("network") if r._moId == net.moid) == 1
    for h in HOSTS:
        assert net.moid in {r._moId for r in s.find("HostSystem", h).get("network")}
        vm = clone(session, made, f"lab-net-{uuid.uuid4().hex[:6]}", h, vmxnet3_on(pg))
        assert vm.runtime.host._moId == s.find("HostSystem", h).moid
        assert net.moid in {n._moId for n in vm.network}

    # ESXi refuses to remove a port group or switch that a VM's adapter is on (ResourceInUse).
    with pytest.raises(vim.fault.ResourceInUse, match="VM lab-net-"):
        systems[HOSTS[0]].RemovePortGroup(pgName=pg)
    with pytest.raises(vim.fault.ResourceInUse):
        systems[HOSTS[1]].RemoveVirtualSwitch(vswitchName=sw)
    destroy_made_vms(session, made)

    # Removing it from one host leaves the network to the other two.
    systems[HOSTS[0]].RemovePortGroup(pgName=pg)
    s = inv(session)
    net, = networks_named(s, pg)
    assert sorted(s.by_ref(h).name for h in net.get("host")) == HOSTS[1:]
    assert net.moid not in {r._moId for r in s.find("HostSystem", HOSTS[0]).get("network")}
    assert pg not in {p.spec.name for p in systems[HOSTS[0]].networkInfo.portgroup}
    vm = clone(session, made, f"lab-net-{uuid.uuid4().hex[:6]}", HOSTS[1], vmxnet3_on(pg))
    assert net.moid in {n._moId for n in vm.network}
    destroy_made_vms(session, made)

    # RemoveVirtualSwitch takes the switch's port group along; the last host takes the network.
    for h in HOSTS:
        systems[h].RemoveVirtualSwitch(vswitchName=sw)
    assert networks_named(inv(session), pg) == []
    for h in HOSTS:
        info = systems[h].networkInfo
        assert sw not in {v.name for v in info.vswitch} and pg not in {p.spec.name for p in info.portgroup}


def create_dvs(session, made, name, hosts):
    s = inv(session)
    member = vim.dvs.HostMember
    specs = [member.ConfigSpec(operation="add", host=s.find("HostSystem", h).ref,
                               backing=member.PnicBacking(pnicSpec=[member.PnicSpec(pnicDevice="vmnic5")]))
             for h in hosts]
    spec = vim.DistributedVirtualSwitch.CreateSpec(
        configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name=name, host=specs))
    dvs = wait_for_task(session, s.of_type("Datacenter")[0].get("networkFolder").CreateDVS_Task(spec=spec))
    made["dvs"].append(dvs)
    return dvs


def test_dvs_members_port_on_member_host_and_destroy(session, made):
    name = f"lab-dvs-{uuid.uuid4().hex[:6]}"
    members, other = HOSTS[:2], HOSTS[2]
    dvs = create_dvs(session, made, name, members)
    s = inv(session)
    assert sorted(s.by_ref(h).name for h in dvs.summary.hostMember) == members
    backing = {s.by_ref(m.config.host).name: [p.pnicDevice for p in m.config.backing.pnicSpec]
               for m in dvs.config.host}
    assert backing == {h: ["vmnic5"] for h in members}

    pg = wait_for_task(session, dvs.AddDVPortgroup_Task(spec=[vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
        name=f"{name}-pg", type="earlyBinding", numPorts=8)]))
    s = inv(session)
    pg = next(o for o in s.of_type("DistributedVirtualPortgroup") if o.name == f"{name}-pg")
    assert sorted(s.by_ref(h).name for h in pg.get("host")) == members

    # The cluster's other hosts are not members; the clone's own host is.
    cluster_hosts = {s.by_ref(h).name for h in s.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("host")}
    assert other in cluster_hosts
    vm = clone(session, made, f"lab-rdma-{uuid.uuid4().hex[:6]}", members[1], pvrdma_on(dvs.uuid, pg.get("key")))
    cards = [d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualVmxnet3Vrdma)]
    assert len(cards) == 1 and cards[0].backing.port.switchUuid == dvs.uuid
    with pytest.raises(TaskFailed, match="not a member"):
        clone(session, made, f"lab-rdma-{uuid.uuid4().hex[:6]}", other, pvrdma_on(dvs.uuid, pg.get("key")))
    assert sorted(inv(session).by_ref(h).name for h in dvs.summary.hostMember) == members

    # In use: the switch stays. Without the VM it goes, with its port groups (uplink included).
    with pytest.raises(TaskFailed):
        wait_for_task(session, dvs.Destroy_Task())
    wait_for_task(session, vm.Destroy_Task())
    made["vms"].remove(vm)
    pg_ids = {r._moId for r in dvs.portgroup}
    assert pg.moid in pg_ids and len(pg_ids) == 2
    wait_for_task(session, dvs.Destroy_Task())
    made["dvs"].remove(dvs)
    s = inv(session)
    assert not [o for o in s.of_type("DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch") if o.name == name]
    assert not {o.moid for o in s.of_type("DistributedVirtualPortgroup")} & pg_ids
    assert not {r._moId for r in s.of_type("Datacenter")[0].get("network")} & pg_ids
    browser = s.find("VirtualMachine", "vhpc_clone").get("environmentBrowser")
    for h in HOSTS:
        host = s.find("HostSystem", h)
        assert not {r._moId for r in host.get("network")} & pg_ids
        target = browser.QueryConfigTarget(host=host.ref)
        assert any(n.name == "vHPC-PG-VMNetwork" for n in target.network)
        assert not [p for p in target.distributedVirtualPortgroup or [] if p.switchName == name]
