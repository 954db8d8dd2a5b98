"""More of "nothing is destroyed that the file or the command does not own", read back with
pyVmomi: VMkernel adapter names that ESXi reuses, switches of one name in two datacenters."""
from __future__ import annotations

import json

from pyVmomi import vim

from tests.integration.test_cluster import BASE
from tests.integration.test_destroy_safety import dvs_named
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

H2 = "vhpc-esx-02.hpc.vmware.com"
H8 = "vhpc-esx-08.hpc.vmware.com"
# One VM with a PVRDMA adapter on a DVS the file makes on host 02 (so the run prepares that host).
PVRDMA_ON_H2 = BASE + f"""
[RDMA]
pvrdma_port_group: PFX-pg
dvs_name: PFX-dvs
[_DVS_]
PFX-dvs: host: {H2} pnic: vmnic5 port_group: PFX-pg
[_VMS_]
PFX-1: BASE RDMA host: {H2} power: off
"""


def vnics(session, host_name):
    """(the host, {VMkernel adapter: (port group, switch uuid or None)}), read directly."""
    host = read_inventory(session, {"HostSystem": ["config.network.vnic", "configManager.networkSystem"]}
                          ).find("HostSystem", host_name)
    return host, {v.device: (v.portgroup, getattr(v.spec.distributedVirtualPort, "switchUuid", None))
                  for v in host.get("config.network.vnic") or []}


def test_pvrdma_undo_leaves_an_adapter_that_took_the_recorded_name(cli, cluster_file, session):
    """The PVRDMA adapter the run made is removed by hand and ESXi gives its name to a new adapter
    on vSwitch0: --destroy undoes the preparation but leaves that adapter."""
    path, pfx = cluster_file(PVRDMA_ON_H2)
    assert cli("cluster", "--create", "--file", path)[0] == 0
    host, before = vnics(session, H2)
    made = next(d for d, (_, switch) in before.items() if switch)
    ns = host.get("configManager.networkSystem")
    ns.RemoveVirtualNic(device=made)
    ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(name=f"{pfx}-vmk", vswitchName="vSwitch0", vlanId=0,
                                                             policy=vim.host.NetworkPolicy()))
    try:
        mine = ns.AddVirtualNic(portgroup=f"{pfx}-vmk",
                                nic=vim.host.VirtualNic.Specification(ip=vim.host.IpConfig(dhcp=True)))
        assert mine == made                       # the name is reused, as ESXi does
        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
        assert code == 0, err
        detail = json.loads(out)["switches"][0]["detail"]
        assert f"left VMkernel adapter {mine} of {H2}" in detail
        assert f"left Net.PVRDMAVmknic ({mine})" in detail     # it names the user's adapter now
        assert vnics(session, H2)[1].get(mine) == (f"{pfx}-vmk", None)
        assert dvs_named(session, f"{pfx}-dvs") == []
    finally:
        if mine in vnics(session, H2)[1]:
            ns.RemoveVirtualNic(device=mine)
        ns.RemovePortGroup(pgName=f"{pfx}-vmk")
        reset_pvrdma(session, H2)


def reset_pvrdma(session, host_name):
    """The host as the lab starts it: no PVRDMA tag, the ruleset off (a test that leaves them breaks
    the next preparation's record)."""
    host = read_inventory(session, {"HostSystem": ["configManager.advancedOption", "configManager.firewallSystem"]}
                          ).find("HostSystem", host_name)
    host.get("configManager.advancedOption").UpdateOptions(
        changedValue=[vim.option.OptionValue(key="Net.PVRDMAVmknic", value="")])
    host.get("configManager.firewallSystem").DisableRuleset(id="pvrdma")


def test_switches_of_one_name_in_two_datacenters(cli, cluster_file, session):
    """vCenter allows a distributed switch name once per datacenter: `dvs --destroy` without
    --datacenter refuses to guess (it destroyed the first found), and `cluster --destroy`
    destroys the one carrying the file's mark, in its datacenter."""
    path, pfx = cluster_file(BASE + f"""
[_DVS_]
PFX-dvs: host: {H8} pnic: vmnic5 port_group: PFX-dpg
[_VMS_]
PFX-1: BASE host: {H8} power: off
""")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    made, = dvs_named(session, f"{pfx}-dvs")
    dc2 = session.content.rootFolder.CreateDatacenter(name=f"{pfx}-dc")
    try:
        spec = vim.DistributedVirtualSwitch.CreateSpec(
            configSpec=vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(name=f"{pfx}-dvs"))
        other = wait_for_task(session, dc2.networkFolder.CreateDVS_Task(spec=spec))
        code, out, err = cli("dvs", "--destroy", "--name", f"{pfx}-dvs")
        assert code == 2 and len(err.strip().splitlines()) == 1 and "give --datacenter" in err, err
        assert f"/HPC_Datacenter/network/{pfx}-dvs" in err and f"/{pfx}-dc/network/{pfx}-dvs" in err
        assert sorted(o.moid for o in dvs_named(session, f"{pfx}-dvs")) == sorted([made.moid, other._moId])

        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
        assert code == 0, err
        assert [(s["name"], s["status"]) for s in json.loads(out)["switches"]] == [(f"{pfx}-dvs", "destroyed")]
        assert [o.moid for o in dvs_named(session, f"{pfx}-dvs")] == [other._moId]
        assert cli("dvs", "--destroy", "--name", f"{pfx}-dvs", "--datacenter", f"{pfx}-dc")[0] == 0
        assert dvs_named(session, f"{pfx}-dvs") == []
    finally:
        for o in dvs_named(session, f"{pfx}-dvs"):
            if o.moid != made.moid:
                wait_for_task(session, o.ref.Destroy_Task())
        wait_for_task(session, dc2.Destroy_Task())


def test_pvrdma_undo_leaves_the_tag_and_ruleset_another_preparation_now_uses(cli, cluster_file, session):
    """After the run, the host's Net.PVRDMAVmknic is pointed at another adapter (another PVRDMA
    setup took the host over): --destroy removes its own adapter but leaves the tag and the ruleset."""
    path, pfx = cluster_file(PVRDMA_ON_H2)
    assert cli("cluster", "--create", "--file", path)[0] == 0
    inv = read_inventory(session, {"HostSystem": ["configManager.advancedOption", "configManager.firewallSystem"]})
    host = inv.find("HostSystem", H2)
    options, firewall = host.get("configManager.advancedOption"), host.get("configManager.firewallSystem")

    def state():
        tag = next(str(o.value) for o in options.QueryOptions(name="Net.PVRDMAVmknic"))
        return tag, next(r.enabled for r in firewall.firewallInfo.ruleset if r.key == "pvrdma")

    made = state()[0]
    assert made and state()[1]
    options.UpdateOptions(changedValue=[vim.option.OptionValue(key="Net.PVRDMAVmknic", value="vmk0")])
    try:
        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
        assert code == 0, err
        assert "left Net.PVRDMAVmknic (vmk0)" in json.loads(out)["switches"][0]["detail"]
        assert state() == ("vmk0", True)                                  # the other setup's, untouched
        assert made not in vnics(session, H2)[1]                          # its own adapter is gone
    finally:
        reset_pvrdma(session, H2)
