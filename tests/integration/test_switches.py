"""svs and dvs on the lab: switches, port groups and DVS members read back; refusals change nothing."""
from __future__ import annotations

import json
import uuid

import pytest

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

H1, H2, H3 = (f"vhpc-esx-0{i}.hpc.vmware.com" for i in (1, 2, 3))


def host_network(session, host_name):
    host = read_inventory(session, {"HostSystem": ["configManager.networkSystem"]}).find("HostSystem", host_name)
    info = host.get("configManager.networkSystem").networkInfo
    return ({v.name for v in info.vswitch or []},
            {(pg.spec.name, pg.spec.vswitchName) for pg in info.portgroup or []})


@pytest.fixture
def svs_name(cli):
    names = {"switch": f"sw-{uuid.uuid4().hex[:6]}", "pg": f"pg-{uuid.uuid4().hex[:6]}"}
    yield names
    cli("svs", "--destroy", "--host", H1, H2, H3, "--name", names["switch"])


def test_svs_create_is_idempotent_and_destroy_removes_it(cli, session, svs_name):
    sw, pg = svs_name["switch"], svs_name["pg"]
    code, out, err = cli("--output", "json", "svs", "--create", "--host", H1, "--name", sw, "--pnic", "vmnic4",
                         "--port_group", pg)
    assert code == 0, err
    row, = json.loads(out)["results"]
    assert (row["host"], row["status"]) == (H1, "changed")
    switches, pgs = host_network(session, H1)
    assert sw in switches and (pg, sw) in pgs
    code, out, _ = cli("--output", "json", "svs", "--create", "--host", H1, "--name", sw, "--pnic", "vmnic4",
                       "--port_group", pg)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"
    assert "already exists" in json.loads(out)["results"][0]["detail"]
    code, out, err = cli("--output", "json", "svs", "--destroy", "--host", H1, "--name", sw)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "changed", err
    switches, pgs = host_network(session, H1)
    assert sw not in switches and (pg, sw) not in pgs
    code, out, _ = cli("--output", "json", "svs", "--destroy", "--host", H1, "--name", sw)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"


def test_svs_create_on_several_hosts(cli, session, svs_name):
    sw, pg = svs_name["switch"], svs_name["pg"]
    code, out, err = cli("--output", "json", "svs", "--create", "--host", H2, H3, "--name", sw, "--pnic", "vmnic4",
                         "--port_group", pg)
    assert [r["status"] for r in json.loads(out)["results"]] == ["changed", "changed"], err
    assert all((pg, sw) in host_network(session, h)[1] for h in (H2, H3))


def test_svs_missing_pnic_or_host_is_refused_before_any_change(cli, session, svs_name):
    sw, pg = svs_name["switch"], svs_name["pg"]
    code, out, err = cli("svs", "--create", "--host", H1, "vhpc-esx-99.hpc.vmware.com", "--name", sw,
                         "--pnic", "vmnic9", "--port_group", pg)
    assert code == 2 and out == ""
    assert "host 'vhpc-esx-99.hpc.vmware.com' not found" in err
    assert f"host {H1} has no physical NIC vmnic9" in err and "vmnic4" in err and "nothing was changed" in err
    assert sw not in host_network(session, H1)[0]


# --- dvs -----------------------------------------------------------------------------------

def read_dvs(session, name):
    inv = read_inventory(session, {"DistributedVirtualSwitch": ["summary.hostMember"], "HostSystem": [],
                                    "DistributedVirtualPortgroup": ["config.distributedVirtualSwitch"]})
    match = [o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch") if o.name == name]
    if not match:
        return None
    sw = match[0]
    members = sorted(inv.by_ref(r).name for r in sw.get("summary.hostMember") or [])
    pgs = sorted(o.name for o in inv.of_type("DistributedVirtualPortgroup")
                 if o.get("config.distributedVirtualSwitch")._moId == sw.moid)
    return members, pgs


def drop_portgroups(session, name):
    """Lab workaround, test-only: the stock simulator's DVS Destroy_Task leaves the switch's port groups
    (the uplink one included) registered and on the member hosts' networks, after which QueryConfigTarget
    panics for those hosts. Destroying the port groups first keeps the shared lab usable."""
    inv = read_inventory(session, {"DistributedVirtualSwitch": [],
                                    "DistributedVirtualPortgroup": ["config.distributedVirtualSwitch"]})
    switches = {o.moid for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
                if o.name == name}
    for pg in inv.of_type("DistributedVirtualPortgroup"):
        if pg.get("config.distributedVirtualSwitch")._moId in switches:
            wait_for_task(session, pg.ref.Destroy_Task())


@pytest.fixture
def dvs_name(cli, session):
    name = f"dvs-{uuid.uuid4().hex[:6]}"
    yield name
    cli("dvs", "--destroy", "--name", name)   # also undoes a PVRDMA preparation


def test_dvs_create_reconcile_destroy(cli, session, dvs_name):
    pg = f"{dvs_name}-pg"
    code, out, err = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H1, H2,
                         "--pnic", "vmnic5", "--port_group", pg)
    assert code == 0, err
    assert json.loads(out)["results"][0]["status"] == "changed"
    members, pgs = read_dvs(session, dvs_name)
    assert members == [H1, H2] and pg in pgs
    code, out, _ = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H1, H2,
                       "--pnic", "vmnic5", "--port_group", pg)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"
    code, out, _ = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H1, H3,
                       "--pnic", "vmnic5", "--port_group", pg)
    row = json.loads(out)["results"][0]
    assert code == 0 and row["status"] == "changed" and f"added host {H3}" in row["detail"]
    assert read_dvs(session, dvs_name)[0] == [H1, H2, H3]
    drop_portgroups(session, dvs_name)
    code, out, _ = cli("--output", "json", "dvs", "--destroy", "--name", dvs_name)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "changed"
    assert read_dvs(session, dvs_name) is None
    code, out, _ = cli("--output", "json", "dvs", "--destroy", "--name", dvs_name)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"


def test_dvs_bad_pnic_or_datacenter_is_refused(cli, session, dvs_name):
    code, _, err = cli("dvs", "--create", "--name", dvs_name, "--host", H1, "--pnic", "vmnic7",
                       "--port_group", "x")
    assert code == 2 and f"host {H1} has no physical NIC vmnic7" in err and "nothing was changed" in err
    code, _, err = cli("dvs", "--create", "--name", dvs_name, "--host", H1, "--pnic", "vmnic5",
                       "--port_group", "x", "--datacenter", "No_DC")
    assert code == 2 and "datacenter 'No_DC' not found" in err
    assert read_dvs(session, dvs_name) is None


# --- uplinks, versions, port groups, PVRDMA preparation ----------------------------------------

def test_svs_on_an_uplink_in_use_is_one_clear_line_before_any_change(cli, session, svs_name):
    sw, pg = svs_name["switch"], svs_name["pg"]
    code, _, err = cli("svs", "--create", "--host", H1, H2, "--name", sw, "--pnic", "vmnic0", "--port_group", pg)
    assert code == 2 and "nothing was changed" in err
    lines = [x for x in err.splitlines() if "vmnic0" in x]
    assert len(lines) == 2 and all("already the uplink of standard switch vSwitch0" in x for x in lines)
    assert f"host {H1}: physical NIC vmnic0" in err and f"host {H2}: physical NIC vmnic0" in err
    assert sw not in host_network(session, H2)[0]


def test_dvs_on_a_standard_switch_uplink_is_refused_and_svs_on_a_dvs_uplink_too(cli, session, svs_name, dvs_name):
    sw, pg = svs_name["switch"], svs_name["pg"]
    assert cli("svs", "--create", "--host", H3, "--name", sw, "--pnic", "vmnic2", "--port_group", pg)[0] == 0
    code, _, err = cli("dvs", "--create", "--name", dvs_name, "--host", H2, H3, "--pnic", "vmnic2",
                       "--port_group", f"{dvs_name}-pg")
    line, = [x for x in err.splitlines() if "vmnic2" in x]
    assert code == 2 and f"host {H3}: physical NIC vmnic2 is already the uplink of standard switch {sw}" in line
    assert read_dvs(session, dvs_name) is None
    assert cli("dvs", "--create", "--name", dvs_name, "--host", H2, "--pnic", "vmnic3",
               "--port_group", f"{dvs_name}-pg")[0] == 0
    code, _, err = cli("svs", "--create", "--host", H2, "--name", f"{sw}-b", "--pnic", "vmnic3", "--port_group", "x")
    assert code == 2 and f"vmnic3 is already the uplink of distributed switch {dvs_name}" in err


def dvs_props(session, name):
    inv = read_inventory(session, {"DistributedVirtualSwitch": ["summary.productInfo", "config.description"],
                                    "DistributedVirtualPortgroup": ["config.autoExpand", "config.numPorts"]})
    return inv, inv.find(("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch"), name)


def test_the_switch_version_is_one_vcenter_creates(cli, session, lab, dvs_name):
    """QueryAvailableDvsSpec decides: a vCenter that creates only 6.5.0 and 6.6.0 gets a 6.6.0 switch for
    ESXi 7.0 members (asking for vCenter's own 7.0.0 would fail)."""
    lab.post("/debug/dvs-versions?versions=6.5.0,6.6.0")
    try:
        code, out, err = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H2,
                             "--pnic", "vmnic5", "--port_group", f"{dvs_name}-pg")
    finally:
        lab.post("/debug/dvs-versions?versions=")
    assert code == 0, err
    assert dvs_props(session, dvs_name)[1].get("summary.productInfo").version == "6.6.0"


def test_dvs_is_created_at_the_oldest_members_version_with_an_elastic_port_group(cli, session, dvs_name):
    # H1 runs ESXi 6.7: the switch is 6.6.0, the newest version it can join.
    code, out, err = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H1, H2,
                         "--pnic", "vmnic5", "--port_group", f"{dvs_name}-pg")
    assert code == 0, err
    assert "version 6.6.0" in json.loads(out)["results"][0]["detail"]
    inv, switch = dvs_props(session, dvs_name)
    assert switch.get("summary.productInfo").version == "6.6.0"
    pg = inv.find("DistributedVirtualPortgroup", f"{dvs_name}-pg")
    assert pg.get("config.autoExpand") is True
    code, out, err = cli("dvs", "--create", "--name", f"{dvs_name}-f", "--host", H2, "--pnic", "vmnic2",
                         "--port_group", f"{dvs_name}-f-pg", "--fixed_ports", "40")
    try:
        assert code == 0, err
        inv, switch = dvs_props(session, f"{dvs_name}-f")
        assert switch.get("summary.productInfo").version == "7.0.0"
        pg = inv.find("DistributedVirtualPortgroup", f"{dvs_name}-f-pg")
        assert (pg.get("config.autoExpand"), pg.get("config.numPorts")) == (False, 40)
        # An older host cannot join the 7.0.0 switch: refused before any change.
        code, _, err = cli("dvs", "--create", "--name", f"{dvs_name}-f", "--host", H1, H2, "--pnic", "vmnic2",
                           "--port_group", f"{dvs_name}-f-pg")
        assert code == 2 and f"host {H1} runs ESXi 6.7.0, too old for distributed switch {dvs_name}-f" in err
    finally:
        cli("dvs", "--destroy", "--name", f"{dvs_name}-f")


def pvrdma_state(session, host_name):
    """(VMkernel adapters on a DVS, Net.PVRDMAVmknic, pvrdma ruleset enabled) of one host, read directly."""
    host = read_inventory(session, {"HostSystem": ["config.network.vnic", "config.firewall",
                                                   "configManager.advancedOption"]}).find("HostSystem", host_name)
    vnics = {v.device: v.spec.distributedVirtualPort.switchUuid for v in host.get("config.network.vnic")
             if v.spec.distributedVirtualPort is not None}
    tag = host.get("configManager.advancedOption").QueryOptions(name="Net.PVRDMAVmknic")[0].value
    ruleset = next(r.enabled for r in host.get("config.firewall").ruleset if r.key == "pvrdma")
    return vnics, tag, ruleset


def vmk_addresses(session, host_name, switch_uuid):
    """(dhcp, ipAddress, subnetMask) of the host's VMkernel adapters on the switch, read directly."""
    host = read_inventory(session, {"HostSystem": ["config.network.vnic"]}).find("HostSystem", host_name)
    return [(v.spec.ip.dhcp, v.spec.ip.ipAddress, v.spec.ip.subnetMask) for v in host.get("config.network.vnic")
            if v.spec.distributedVirtualPort is not None and v.spec.distributedVirtualPort.switchUuid == switch_uuid]


def test_dvs_pvrdma_static_addresses_for_a_fabric_without_dhcp(cli, session, dvs_name):
    code, _, err = cli("dvs", "--create", "--name", dvs_name, "--host", H2, H3, "--pnic", "vmnic5",
                       "--port_group", f"{dvs_name}-pg", "--pvrdma", "--vmk_ip", "10.77.0.2", "--vmk_netmask",
                       "255.255.255.0")
    assert code == 2 and "2 hosts but 1 --vmk_ip" in err
    assert not [o for o in read_inventory(session, {"DistributedVirtualSwitch": []}).of_type(
        "VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch") if o.name == dvs_name]
    code, out, err = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H2, H3,
                         "--pnic", "vmnic5", "--port_group", f"{dvs_name}-pg", "--pvrdma",
                         "--vmk_ip", "10.77.0.2", "10.77.0.3", "--vmk_netmask", "255.255.255.0")
    assert code == 0, err
    uuid_ = read_inventory(session, {"DistributedVirtualSwitch": ["uuid"]}).find(
        ("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch"), dvs_name).get("uuid")
    assert vmk_addresses(session, H2, uuid_) == [(False, "10.77.0.2", "255.255.255.0")]
    assert vmk_addresses(session, H3, uuid_) == [(False, "10.77.0.3", "255.255.255.0")]
    code, out, err = cli("--output", "json", "dvs", "--destroy", "--name", dvs_name)
    assert code == 0, err
    for host in (H2, H3):
        assert pvrdma_state(session, host) == ({}, "", False)


def test_dvs_pvrdma_prepares_the_members_and_destroy_undoes_it(cli, session, dvs_name):
    assert pvrdma_state(session, H3) == ({}, "", False)
    code, out, err = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H2, H3,
                         "--pnic", "vmnic5", "--port_group", f"{dvs_name}-pg", "--pvrdma")
    assert code == 0, err
    assert "prepared 2 hosts for PVRDMA" in json.loads(out)["results"][0]["detail"]
    _, switch = dvs_props(session, dvs_name)
    uuid_ = read_inventory(session, {"DistributedVirtualSwitch": ["uuid"]}).find(
        ("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch"), dvs_name).get("uuid")
    for host in (H2, H3):
        vnics, tag, ruleset = pvrdma_state(session, host)
        assert vnics.get(tag) == uuid_ and ruleset is True
    assert "vhpc-toolkit-pvrdma:" in switch.get("config.description")
    code, out, _ = cli("--output", "json", "dvs", "--create", "--name", dvs_name, "--host", H2, H3,
                       "--pnic", "vmnic5", "--port_group", f"{dvs_name}-pg", "--pvrdma")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"
    code, _, err = cli("dvs", "--create", "--name", f"{dvs_name}-2", "--host", H2, "--pnic", "vmnic4", "vmnic5",
                       "--port_group", "y", "--pvrdma")
    assert code == 2 and "only uplink" in err and "NIC teaming" in err
    code, out, err = cli("--output", "json", "dvs", "--destroy", "--name", dvs_name)
    assert code == 0, err
    assert "undid the PVRDMA preparation of 2 hosts" in json.loads(out)["results"][0]["detail"]
    for host in (H2, H3):
        assert pvrdma_state(session, host) == ({}, "", False)
