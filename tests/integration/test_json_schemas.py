"""Every command's --output json document validates against its schema in docs/schemas (docs/json.md)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
GPU = "0000:3b:00.0"
HOST = "vhpc-esx-06.hpc.vmware.com"


def _registry() -> Registry:
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS.glob("*.json")]
    return Registry().with_resources(resources)


def check(doc, schema: str):
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{schema}.json").read_text()),
                                    registry=_registry()).validate(doc)


@pytest.fixture(scope="module")
def vm(lab):
    """One clone on host 06 for the per-VM commands; destroyed afterwards."""
    from vhpc_toolkit.cli.main import main

    name = f"s{uuid.uuid4().hex[:6]}"
    assert main(["--vcenter-conf", str(lab.conf), "--yes", "clone", "--template", "vhpc_clone", "--vm", name,
                 "--host", HOST]) == 0
    yield name
    main(["--vcenter-conf", str(lab.conf), "--yes", "destroy", "--vm", name])


def run_json(cli, *argv, code=0):
    got, out, err = cli("--output", "json", *argv)
    assert got == code, err
    return json.loads(out)


def test_schemas_are_valid_json_schemas():
    for path in SCHEMAS.glob("*.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_per_vm_commands(cli, vm, tmp_path):
    for argv in (["cpumem", "--vm", vm, "--cpu", "4", "--memory", "8", "--memory_reservation", "yes"],
                 ["latency", "--vm", vm, "--check"], ["latency", "--vm", vm, "--level", "normal"],
                 ["network", "--vm", vm, "--add", "--port_group", "vHPC-PG-VMNetwork"],
                 ["network_cfg", "--vm", vm, "--port_group", "vHPC-PG-VMNetwork", "--is_dhcp"],
                 ["passthru", "--vm", vm, "--add", "--device", GPU], ["vgpu", "--vm", vm, "--remove"],
                 ["sriov", "--vm", vm, "--remove", "--sriov_port_group", "none"],
                 ["power", "--vm", vm, "--on"], ["power", "--vm", vm, "--off"],
                 ["passthru", "--vm", vm, "--remove", "--device", GPU]):
        check(run_json(cli, *argv), "report")
    for argv in (["passthru", "--vm", vm, "--query"], ["vgpu", "--vm", vm, "--query"],
                 ["sriov", "--vm", vm, "--query"]):
        check(run_json(cli, *argv), "query")


def test_post(cli, vm, tmp_path):
    script = tmp_path / "hello.sh"
    script.write_text("echo hello\n")
    doc = run_json(cli, "post", "--vm", vm, "--script", script, "--guest_password", "VMware1!", "--wait")
    check(doc, "post")
    run_json(cli, "power", "--vm", vm, "--off")


def test_view_and_switches(cli):
    check(run_json(cli, "view", "--networking"), "view")
    sw = f"s{uuid.uuid4().hex[:6]}"
    check(run_json(cli, "svs", "--create", "--host", HOST, "--name", sw, "--pnic", "vmnic4",
                   "--port_group", f"{sw}-pg"), "report")
    check(run_json(cli, "svs", "--destroy", "--host", HOST, "--name", sw), "report")


def test_cluster_plan_create_destroy(cli, tmp_path):
    pfx = f"s{uuid.uuid4().hex[:6]}"
    path = tmp_path / "c.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\nhost: {HOST}\nguest_password: x\n"
                    f"[_VMS_]\n{pfx}-{{1:2}}: B power: off\n")
    check(run_json(cli, "cluster", "--plan", "--file", path), "plan")
    try:
        check(run_json(cli, "cluster", "--create", "--file", path), "cluster")
        check(run_json(cli, "cluster", "--create", "--file", path), "cluster")
        check(run_json(cli, "cluster", "--list"), "cluster-list")
        check(run_json(cli, "cluster", "--adopt", "--file", path), "report")
    finally:
        check(run_json(cli, "cluster", "--destroy", "--file", path), "cluster-destroy")


def test_errors_are_json_on_stderr(run_cli, lab):
    code, out, err = run_cli("--vcenter-conf", lab.conf, "--output", "json", "power", "--vm", "no-such-vm", "--on")
    assert code == 2 and out == ""
    doc = json.loads(err)
    check(doc, "error")
    assert doc["error"]["exit_code"] == 2 and "no-such-vm" in doc["error"]["message"]
    code, out, err = run_cli("--output", "json", "power", "--vm", "x")   # a usage error
    assert code == 2 and json.loads(err)["error"]["exit_code"] == 2


def test_the_103_commands(cli, vm):
    """Each of the original 1.0.3's commands has its own schema."""
    check(run_json(cli, "get_vm_config", "--vm", vm), "vm-config")
    check(run_json(cli, "secure_boot", "--vm", vm, "--on"), "secure-boot")
    check(run_json(cli, "vm_sched_affinity", "--vm", vm, "--affinity", "0:3"), "sched-affinity")
    check(run_json(cli, "vm_sched_affinity", "--vm", vm, "--clear"), "sched-affinity")
    check(run_json(cli, "numa_affinity", "--vm", vm, "--affinity", "0"), "numa-affinity")
    check(run_json(cli, "numa_affinity", "--vm", vm, "--clear"), "numa-affinity")
    check(run_json(cli, "passthru", "--vm", vm, "--add", "--dynamic", "--device", GPU, "--hardware_version", "17"),
          "report")
    check(run_json(cli, "get_vm_config", "--vm", vm), "vm-config")
    check(run_json(cli, "passthru", "--vm", vm, "--remove", "--dynamic", "--device", GPU), "report")
    check(run_json(cli, "migrate_vm", "--vm", vm, "--destination", "vhpc-esx-05.hpc.vmware.com"), "migrate")
    check(run_json(cli, "migrate_vm", "--vm", vm, "--destination", HOST), "migrate")
    try:
        check(run_json(cli, "power_policy", "--host", HOST, "--policy", "3"), "power-policy")
    finally:
        check(run_json(cli, "power_policy", "--host", HOST, "--policy", "2"), "power-policy")
    check(run_json(cli, "passthru_host", "--host", HOST, "--device", "0000:d8:00.0", "--off"), "passthru-host")
    check(run_json(cli, "passthru_host", "--host", HOST, "--device", "0000:d8:00.0", "--on"), "passthru-host")
    check(run_json(cli, "sriov_host", "--host", HOST, "--device", "0000:af:00.0", "--on", "--num_func", "6"),
          "sriov-host")
    check(run_json(cli, "sriov_host", "--host", HOST, "--device", "0000:af:00.0", "--on", "--num_func", "8"),
          "sriov-host")
