"""Part of the suite against an independent server: govmomi's stock simulator on the lab's inventory
(`vhpc-sim --stock`, none of the lab's behaviour). It catches a toolkit that leans on the lab's kindness.

Each test asserts what the stock simulator supports, and where it differs from vSphere (listed in
docs/stock-simulator.md) that the toolkit reports the difference instead of trusting a task's success.
One extra simulator process for the session; every VM and switch made here is removed.
"""
from __future__ import annotations

import json
import uuid

import pytest

from vhpc_toolkit.vsphere.inventory import read_inventory, read_objects

H1, H2, H5 = (f"vhpc-esx-0{i}.hpc.vmware.com" for i in (1, 2, 5))


@pytest.fixture(scope="module")
def stock_session(stock_lab):
    s = stock_lab.connect()
    yield s
    s.close()


def vm(session, name):
    """(host name, vCPUs, memory MB, power state) of a VM, or None: one PropertyCollector read."""
    inv = read_inventory(session, {"VirtualMachine": ["runtime.host", "config.hardware.numCPU",
                                                      "config.hardware.memoryMB", "runtime.powerState"],
                                   "HostSystem": []})
    found = [o for o in inv.of_type("VirtualMachine") if o.name == name]
    if not found:
        return None
    o = found[0]
    return (inv.by_ref(o.get("runtime.host")).name, o.get("config.hardware.numCPU"),
            o.get("config.hardware.memoryMB"), o.get("runtime.powerState"))


@pytest.fixture
def name(stock_cli):
    n = f"st-{uuid.uuid4().hex[:8]}"
    yield n
    stock_cli("destroy", "--vm", n)


def test_view_lists_the_inventory(stock_cli):
    code, out, err = stock_cli("--output", "json", "view")
    assert code == 0, err
    assert "vhpc_clone" in out and H5 in out


def test_a_clone_spec_the_server_ignores_is_reported_not_trusted(stock_cli, stock_lab, stock_session, name):
    # The stock CloneVM_Task ignores spec.config (but devices), spec.location.host and powerOn, and succeeds.
    stock_lab.reset_calls()
    code, out, err = stock_cli("--output", "json", "clone", "--template", "vhpc_clone", "--vm", name,
                               "--host", H5, "--cpu", "4", "--memory", "8")
    assert code == 1, out
    result = json.loads(out)["results"][0]
    assert result["status"] == "failed" and result["host"] == H1 and result["cpu"] == 2
    assert f"runs on {H1} (asked {H5})" in result["detail"] and "2 vCPU (asked 4)" in result["detail"]
    assert "4096 MB memory (asked 8192)" in result["detail"]
    assert stock_lab.calls()["methods"]["RetrievePropertiesEx"] == 2   # the plan's read and the read-back
    assert vm(stock_session, name) == (H1, 2, 4096, "poweredOff")   # what the server holds
    code, _, err = stock_cli("destroy", "--vm", name)
    assert code == 0, err
    assert vm(stock_session, name) is None


def test_power_cpumem_latency_network_work(stock_cli, stock_session, name):
    assert stock_cli("clone", "--template", "vhpc_clone", "--vm", name, "--cluster", "HPC_Cluster")[0] == 0   # the template's host
    assert stock_cli("power", "--vm", name, "--on")[0] == 0
    assert vm(stock_session, name)[3] == "poweredOn"
    assert stock_cli("power", "--vm", name, "--off")[0] == 0
    code, _, err = stock_cli("cpumem", "--vm", name, "--cpu", "4", "--memory", "8")
    assert code == 0, err
    assert vm(stock_session, name)[1:3] == (4, 8192)
    for status in ("changed", "unchanged"):   # the read-back found it applied; a second run changes nothing
        code, out, err = stock_cli("--output", "json", "latency", "--vm", name, "--level", "high")
        assert code == 0, err + out
        assert json.loads(out)["results"][0]["status"] == status
    for verb in ("--add", "--remove"):
        code, out, err = stock_cli("--output", "json", "network", "--vm", name, verb, "--port_group", "VM Network")
        assert code == 0, err + out
        assert json.loads(out)["results"][0]["status"] == "changed"


def standard_switches(session, host_name):
    """(switch names, port group names, datacenter networks) as the server holds them: the host's network
    system, where the stock simulator keeps what AddVirtualSwitch/AddPortGroup made."""
    inv = read_inventory(session, {"HostSystem": ["configManager.networkSystem"], "Network": []})
    ns = inv.find("HostSystem", host_name).get("configManager.networkSystem")
    info = read_objects(session, [ns], ["networkInfo.vswitch", "networkInfo.portgroup"])[ns._moId]
    return ({v.name for v in info.get("networkInfo.vswitch") or []},
            {p.spec.name for p in info.get("networkInfo.portgroup") or []}, {o.name for o in inv.of_type("Network")})


def test_switches(stock_cli, stock_session):
    sw, pg = f"st-sw-{uuid.uuid4().hex[:6]}", f"st-pg-{uuid.uuid4().hex[:6]}"
    try:
        code, _, err = stock_cli("svs", "--create", "--host", H2, "--name", sw, "--pnic", "vmnic4", "--port_group", pg)
        assert code == 0, err
        switches, pgs, networks = standard_switches(stock_session, H2)
        assert sw in switches and pg in pgs and pg in networks
        # Difference: the stock simulator makes a datacenter network per AddPortGroup, so the same
        # port group name on a second host is DuplicateName (vSphere shares one network). Reported, exit 1.
        code, out, _ = stock_cli("--output", "json", "svs", "--create", "--host", H2, H5, "--name", sw,
                                 "--pnic", "vmnic4", "--port_group", pg)
        rows = {r["host"]: r for r in json.loads(out)["results"]}
        assert code == 1 and rows[H5]["status"] == "failed" and "DuplicateName" in rows[H5]["detail"]
    finally:
        code, out, err = stock_cli("--output", "json", "svs", "--destroy", "--host", H2, H5, "--name", sw)
    assert code == 0, err
    assert json.loads(out)["results"][0]["status"] == "changed"
    switches, pgs, networks = standard_switches(stock_session, H2)   # removed, not just reported so
    assert sw not in switches and pg not in pgs and pg not in networks
    dvs = f"st-dvs-{uuid.uuid4().hex[:6]}"
    code, _, err = stock_cli("dvs", "--create", "--name", dvs, "--host", H2, "--pnic", "vmnic5",
                             "--port_group", f"{dvs}-pg")
    assert code == 0, err
    assert stock_cli("dvs", "--destroy", "--name", dvs)[0] == 0


def test_cluster_create_reports_what_the_server_holds(stock_cli, stock_session, tmp_path):
    pfx = f"sc{uuid.uuid4().hex[:6]}"
    path = tmp_path / "stock.conf"
    path.write_text(f"""
[BASE]
template: vhpc_clone
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
power: off

[_VMS_]
{pfx}-moved: BASE host: {H2} cpu: 4 memory: 8
{pfx}-plain: BASE cluster: HPC_Cluster host: {H1}
""")
    try:
        code, out, err = stock_cli("--output", "json", "cluster", "--create", "--file", path, "--hostfile",
                                   tmp_path / "hosts")
        assert code == 1, err + out
        vms = {v["name"]: v for v in json.loads(out)["vms"]}
        moved = vms[f"{pfx}-moved"]
        assert moved["status"] == "failed" and moved["host"] == H1   # where it is, not where it was asked
        assert f"runs on {H1} (asked {H2})" in moved["detail"] and "cpu is 2 (asked 4)" in moved["detail"]
        assert vms[f"{pfx}-plain"]["status"] == "created"
        assert vm(stock_session, f"{pfx}-moved") == (H1, 2, 4096, "poweredOff")
    finally:
        code, out, err = stock_cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err
    assert vm(stock_session, f"{pfx}-moved") is None and vm(stock_session, f"{pfx}-plain") is None


def test_a_clusters_switch_goes_with_the_cluster(stock_cli, stock_session, tmp_path):
    """The stock simulator's custom attributes are not vCenter's (no value type for a field of every type,
    values appended twice): a distributed switch's mark does without them (its description), so a
    create/destroy cycle leaves nothing behind. (A standard switch: the stock HostSystem.config.network
    does not follow HostNetworkSystem's changes, so no client reading it sees the switch; the cycle with
    one is tested on the lab, under denied privileges, in test_least_privilege.py.)"""
    pfx = f"sm{uuid.uuid4().hex[:6]}"
    path = tmp_path / "marks.conf"
    path.write_text(f"""
[_CLUSTER_]
name: {pfx}
[_DVS_]
{pfx}-dvs: host: {H5} pnic: vmnic5 port_group: {pfx}-dpg
[_VMS_]
{pfx}-1: template: vhpc_clone datacenter: HPC_Datacenter cluster: HPC_Cluster host: {H1} power: off
""")

    def left():
        inv = read_inventory(stock_session, {"VirtualMachine": [], "DistributedVirtualSwitch": ["config.description"]})
        return sorted((o.name, o.get("config.description")) for o in
                      inv.of_type("VirtualMachine", "DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch")
                      if o.name.startswith(pfx))

    code, out, err = stock_cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0 and "Traceback" not in err, err + out
    assert left() == [(f"{pfx}-1", None), (f"{pfx}-dvs", f'vhpc_toolkit.owner: {{"cluster": "{pfx}", "format": 2}}')]
    code, out, err = stock_cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err + out
    assert [s["status"] for s in json.loads(out)["switches"]] == ["destroyed"]
    assert left() == []
