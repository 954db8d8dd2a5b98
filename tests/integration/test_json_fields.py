"""The JSON documents keep their documented fields (docs/cluster-create.md and the per-VM reports):
scripts written against them must not break when the code behind them changes shape."""
from __future__ import annotations

import json
import uuid

from tests.integration.test_cluster import BASE

CLUSTER_KEYS = {"up_to_date", "switches", "vms", "post", "pruned", "notes", "summary", "not_in_file", "matches",
                "verdict", "plan"}
CLUSTER_VM_KEYS = {"name", "host", "action", "status", "ip", "devices", "detail"}
SWITCH_KEYS = {"name", "kind", "hosts", "port_group", "status", "detail"}
REPORT_KEYS = {"operation", "results", "summary"}
VM_RESULT_KEYS = {"vm", "status", "detail", "changes"}


def test_cluster_create_and_destroy_json_fields(cli, tmp_path):
    pfx = f"j{uuid.uuid4().hex[:6]}"
    sw = f"{pfx}-sw"
    path = tmp_path / "c.conf"
    path.write_text(BASE.replace("PFX", pfx) + f"""
[_SVS_]
{sw}: host: vhpc-esx-06.hpc.vmware.com pnic: vmnic4 port_group: {pfx}-pg

[_VMS_]
{pfx}-a: BASE host: vhpc-esx-06.hpc.vmware.com power: off
""")
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    try:
        assert code == 0, err
        doc = json.loads(out)
        assert set(doc) == CLUSTER_KEYS | {"cloning"}     # a run that clones says how
        assert set(doc["vms"][0]) == CLUSTER_VM_KEYS
        assert set(doc["switches"][0]) == SWITCH_KEYS and doc["switches"][0]["status"] == "created"
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        again = json.loads(out)
        assert code == 0 and set(again) == CLUSTER_KEYS and again["up_to_date"] is True
        assert set(again["vms"][0]) == CLUSTER_VM_KEYS and set(again["switches"][0]) == SWITCH_KEYS
    finally:
        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == REPORT_KEYS | {"switches", "notes", "plan"}
    assert set(doc["results"][0]) == VM_RESULT_KEYS
    assert set(doc["switches"][0]) == {"name", "kind", "status", "detail"}


def test_per_vm_command_json_fields(cli, tmp_path):
    name = f"j{uuid.uuid4().hex[:6]}"
    code, out, err = cli("--output", "json", "clone", "--template", "vhpc_clone", "--vm", name,
                         "--host", "vhpc-esx-06.hpc.vmware.com")
    try:
        assert code == 0, err
        for argv in (["clone", "--template", "vhpc_clone", "--vm", name],   # exists: unchanged
                     ["cpumem", "--vm", name, "--cpu", "2"], ["power", "--vm", name, "--on"],
                     ["latency", "--vm", name, "--check"], ["power", "--vm", name, "--off"]):
            code, out, err = cli("--output", "json", *argv)
            assert code == 0, (argv, err)
            doc = json.loads(out)
            assert set(doc) == REPORT_KEYS, argv
            assert VM_RESULT_KEYS <= set(doc["results"][0]) and doc["results"][0]["vm"] == name, argv
    finally:
        code, out, err = cli("--output", "json", "destroy", "--vm", name)
    assert code == 0 and set(json.loads(out)["results"][0]) == VM_RESULT_KEYS
