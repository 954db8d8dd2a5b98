"""`cluster --create` and guest customization on the lab: each VM's outcome as vCenter reports it
(CustomizationSucceeded / a CustomizationFailed subtype) before its IP is recorded, exports are
written or scripts run; a failed VM fails alone; a re-run reports the missing static IP as drift.

The shared lab fails the customization of VMs whose names contain "custfail" (tests/plugins/lab.py).
"""
from __future__ import annotations

import json


from tests.plugins.lab import CUSTOMIZATION_FAILS
from vhpc_toolkit.vsphere.inventory import read_inventory

PASSWORD = "VMware1!"


def guests(session, prefix):
    inv = read_inventory(session, {"VirtualMachine": ["guest.ipAddress", "guest.net", "runtime.powerState"]})
    return {o.name: o for o in inv.of_type("VirtualMachine") if o.name.startswith(prefix)}


BODY = f"""
[BASE]
template: vhpc_clone
cpu: 2
memory: 2
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
guest_username: root
guest_password: {PASSWORD}

[NET]
is_dhcp: false
port_group: vHPC-PG-VMNetwork
netmask: 255.255.255.0
gateway: 172.31.7.1

[_VMS_]
PFX-ok{{1:2}}: BASE NET host: vhpc-esx-06.hpc.vmware.com ip: 172.31.7.{{11:12}} script: SCRIPT
PFX-{CUSTOMIZATION_FAILS}: BASE NET host: vhpc-esx-06.hpc.vmware.com ip: 172.31.7.13 script: SCRIPT
"""


def test_a_failed_customization_fails_that_vm_alone(cli, cluster_file, session, lab, tmp_path):
    script = tmp_path / "mark.sh"
    script.write_text("#!/bin/sh\nhostname > /tmp/customized-mark\n")
    path, pfx = cluster_file(BODY.replace("SCRIPT", str(script)))
    bad = f"{pfx}-{CUSTOMIZATION_FAILS}"
    hostfile = tmp_path / "hosts"
    lab.reset_calls()
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path, "--hostfile", hostfile)
    calls = lab.calls()["methods"]
    assert code == 1, err
    doc = json.loads(out)
    vms = {v["name"]: v for v in doc["vms"]}
    assert vms[f"{pfx}-ok1"]["status"] == vms[f"{pfx}-ok2"]["status"] == "created"
    assert (vms[f"{pfx}-ok1"]["ip"], vms[f"{pfx}-ok2"]["ip"]) == ("172.31.7.11", "172.31.7.12")
    assert vms[bad]["status"] == "failed" and vms[bad]["ip"] is None
    assert "CustomizationNetworkSetupFailed" in vms[bad]["detail"] and "kept its address 127.100." in vms[bad]["detail"]

    # The others' scripts ran; the failed VM's did not; the hostfile has only the good addresses.
    runs = {r["vm"]: r["status"] for r in doc["post"]["results"]}
    assert runs == {f"{pfx}-ok1": "ok", f"{pfx}-ok2": "ok"}
    assert (lab.guest_root / f"{pfx}-ok1" / "tmp" / "customized-mark").exists()
    assert not (lab.guest_root / bad / "tmp" / "customized-mark").exists()
    assert any(bad in n and "not run" in n for n in doc["notes"])
    text = hostfile.read_text()
    assert "172.31.7.11" in text and "172.31.7.12" in text and f"# {bad}: no IP yet" in text   # named, no address

    # Read back: the good VMs have their static addresses, the failed one its interim lease.
    found = guests(session, pfx)
    assert found[f"{pfx}-ok1"].get("guest.ipAddress") == "172.31.7.11"
    assert found[bad].get("guest.ipAddress").startswith("127.100.")

    # Waited through the PropertyCollector: one event collector for the run, no per-VM queries.
    assert calls.get("CreateCollectorForEvents") == 1 and not calls.get("QueryEvents")
    assert calls.get("CloneVM_Task") == 3 and not calls.get("CustomizeVM_Task")

    # A re-run: the VM without the static IP its file asks for is drift, not "up to date".
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 1
    vms = {v["name"]: v for v in json.loads(out)["vms"]}
    assert vms[bad]["status"] == "drift" and "172.31.7.13" in vms[bad]["detail"]
    assert vms[f"{pfx}-ok1"]["status"] == "up to date"


def test_customized_cluster_costs_few_calls_per_vm(cli, cluster_file, lab):
    body = BODY.replace(f"PFX-{CUSTOMIZATION_FAILS}: BASE NET host: vhpc-esx-06.hpc.vmware.com ip: 172.31.7.13 "
                        "script: SCRIPT\n", "").replace(" script: SCRIPT", "")
    body = body.replace("PFX-ok{1:2}: BASE NET host: vhpc-esx-06.hpc.vmware.com ip: 172.31.7.{11:12}",
                        "PFX-n{1:8}: BASE NET host: vhpc-esx-0{2:8}.hpc.vmware.com ip: 172.31.8.{1:8}")
    path, pfx = cluster_file(body)
    lab.reset_calls()
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    calls = lab.calls()
    assert code == 0, err
    assert {v["ip"] for v in json.loads(out)["vms"]} == {f"172.31.8.{i}" for i in range(1, 9)}
    # The fixed cost of a run (login, inventory read, the waits' collectors) plus about one
    # CloneVM_Task per VM; the customization wait adds a handful of calls per run, none per VM.
    assert calls["methods"]["CloneVM_Task"] == 8
    assert calls["total"] <= 8 + 40, calls
