"""`view`: text tree, JSON, and a constant number of SOAP calls on a large inventory."""
from __future__ import annotations

import json


def test_view_json_has_the_inventory(lab, run_cli):
    code, out, err = run_cli("--vcenter-conf", lab.conf, "--output", "json", "view")
    assert code == 0, err
    doc = json.loads(out)
    dc = doc["datacenters"][0]
    assert dc["name"] == "HPC_Datacenter"
    clusters = {c["name"]: c for c in dc["clusters"]}
    # The lab's layout: HPC_Cluster holds vhpc-esx-01 alone (with the template), the rest are GPU hosts.
    assert [h["name"] for h in clusters["HPC_Cluster"]["hosts"]] == ["vhpc-esx-01.hpc.vmware.com"]
    assert sorted(h["name"] for h in clusters["COMPUTE_GPU_Cluster"]["hosts"])[:7] == [
        f"vhpc-esx-0{i}.hpc.vmware.com" for i in range(2, 9)]
    host = next(h for h in clusters["COMPUTE_GPU_Cluster"]["hosts"] if h["name"] == "vhpc-esx-02.hpc.vmware.com")
    assert host["connection_state"] == "connected"
    assert {g["id"]: (g["passthrough"], g["mode"]) for g in host["gpus"]} == {
        "0000:3b:00.0": (True, "passthrough"), "0000:d8:00.0": (True, "passthrough"), "0000:5e:00.0": (False, "vgpu")}
    vms = {v["name"]: v for h in clusters["HPC_Cluster"]["hosts"] for v in h["vms"]}
    assert vms["vhpc_clone"]["template"] is True


def test_view_text_tree(lab, run_cli):
    code, out, _ = run_cli("--vcenter-conf", lab.conf, "view")
    assert code == 0
    for text in ("HPC_Datacenter", "COMPUTE_GPU_Cluster", "vhpc-esx-08 ", "host names end in .hpc.vmware.com",
                 "vhpc_clone", "0000:3b:00.0", "passthrough", "0000:86:00.0", "vGPU (shared direct)"):
        assert text in out


def test_view_networking(lab, run_cli):
    code, out, _ = run_cli("--vcenter-conf", lab.conf, "--output", "json", "view", "--networking")
    assert code == 0
    dc = json.loads(out)["datacenters"][0]
    host = dc["clusters"][0]["hosts"][0]
    assert any("vHPC-PG-VMNetwork" in sw["port_groups"] for sw in host["switches"])
    tpl = next(v for c in dc["clusters"] for h in c["hosts"] for v in h["vms"] if v["name"] == "vhpc_clone")
    assert tpl["adapters"][0]["network"] == "vHPC-PG-VMNetwork"
    assert tpl["adapters"][0]["label"] == "Network adapter 1"          # vCenter's label, not the stock "ethernet--7"
    code, text, _ = run_cli("--vcenter-conf", lab.conf, "view", "--networking")
    assert "vSwitch" in text and "Network adapter 1 Vmxnet3 on vHPC-PG-VMNetwork" in text


def test_view_calls_are_constant_on_a_large_inventory(large_lab, run_cli, monkeypatch):
    from vhpc_toolkit.vsphere import fastread

    decoded = []   # objects pyVmomi's decoder had to read: hosts and such, never every VM's devices
    real = fastread._keep_objects
    monkeypatch.setattr(fastread, "_keep_objects", lambda data, keep: decoded.extend(keep) or real(data, keep))
    large_lab.reset_calls()
    code, out, _ = run_cli("--vcenter-conf", large_lab.conf, "--output", "json", "view")
    assert code == 0
    vms = [v for dc in json.loads(out)["datacenters"] for c in dc["clusters"] for h in c["hosts"]
           for v in h["vms"]]
    assert len(vms) >= 1024
    calls = large_lab.calls()
    # login, content, container view, 2 pages of RetrievePropertiesEx, destroy view, logout
    assert calls["total"] <= 10, calls
    assert len(decoded) < 100, len(decoded)
