"""Per-VM operations against the lab, checked by reading the VMs back with pyVmomi."""
from __future__ import annotations

import json
import uuid

import pytest
from pyVmomi import vim

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

HOST5 = "vhpc-esx-05.hpc.vmware.com"


def vm_props(session, name, *paths):
    inv = read_inventory(session, {"VirtualMachine": list(paths) + ["runtime.host"], "HostSystem": []})
    matches = [o for o in inv.of_type("VirtualMachine") if o.name == name]
    if not matches:
        return None
    vm = matches[0]
    props = dict(vm.props)
    host = inv.by_ref(vm.get("runtime.host"))
    props["host_name"] = host.name if host else None
    return props


@pytest.fixture
def vm_name(cli):
    """A fresh name; whatever VM gets that name is destroyed after the test."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    cli("destroy", "--vm", name)


def test_full_clone_with_size_and_placement(cli, session, vm_name):
    code, out, err = cli("--output", "json", "clone", "--template", "vhpc_clone", "--vm", vm_name,
                         "--cluster", "COMPUTE_GPU_Cluster", "--host", HOST5,
                         "--datastore", "COMPUTE01_vsanDatastore", "--cpu", "4", "--memory", "8")
    assert code == 0, err
    assert json.loads(out)["results"][0]["status"] == "changed"
    props = vm_props(session, vm_name, "config.hardware.numCPU", "config.hardware.memoryMB", "config.template")
    assert props["config.hardware.numCPU"] == 4 and props["config.hardware.memoryMB"] == 8192
    assert props["host_name"] == HOST5 and props["config.template"] is False
    # Cloning again changes nothing.
    code, out, _ = cli("--output", "json", "clone", "--template", "vhpc_clone", "--vm", vm_name)
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"


def test_linked_clone_uses_a_template_snapshot(cli, session, vm_name):
    code, _, err = cli("clone", "--template", "vhpc_clone", "--vm", vm_name, "--linked")
    assert code == 0, err
    assert vm_props(session, vm_name, "name") is not None
    tpl = vm_props(session, "vhpc_clone", "snapshot")
    assert tpl["snapshot"] is not None and tpl["snapshot"].currentSnapshot is not None


def test_clone_file_lines_place_each_vm(cli, session, tmp_path):
    names = [f"tf-{uuid.uuid4().hex[:6]}-{i}" for i in range(3)]
    listing = tmp_path / "clones.txt"
    listing.write_text(f"# name cluster host datastore\n{names[0]}\n"
                       f"{names[1]} COMPUTE_GPU_Cluster {HOST5}\n\n"
                       f"{names[2]} COMPUTE_GPU_Cluster vhpc-esx-06.hpc.vmware.com COMPUTE01_vsanDatastore\n")
    try:
        code, out, err = cli("--output", "json", "clone", "--template", "vhpc_clone", "--file", listing)
        assert code == 0, err
        assert [r["status"] for r in json.loads(out)["results"]] == ["changed"] * 3
        assert vm_props(session, names[1], "name")["host_name"] == HOST5
        assert vm_props(session, names[2], "name")["host_name"] == "vhpc-esx-06.hpc.vmware.com"
    finally:
        listing.write_text("\n".join(names))
        cli("destroy", "--file", listing)
    assert all(vm_props(session, n, "name") is None for n in names)


def test_clone_bad_placement_is_refused_before_any_clone(cli, session, tmp_path, vm_name):
    code, _, err = cli("clone", "--template", "vhpc_clone", "--vm", vm_name, "--host", "vhpc-esx-99.hpc.vmware.com")
    assert code == 2 and "host 'vhpc-esx-99.hpc.vmware.com' not found" in err and "Traceback" not in err
    assert vm_props(session, vm_name, "name") is None


def test_power_on_off(cli, session, vm_name):
    assert cli("clone", "--template", "vhpc_clone", "--vm", vm_name)[0] == 0
    code, out, _ = cli("--output", "json", "power", "--vm", vm_name, "--on")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "changed"
    assert vm_props(session, vm_name, "runtime.powerState")["runtime.powerState"] == "poweredOn"
    code, out, _ = cli("--output", "json", "power", "--vm", vm_name, "--on")
    assert json.loads(out)["results"][0]["status"] == "unchanged"
    assert cli("power", "--vm", vm_name, "--off")[0] == 0
    assert vm_props(session, vm_name, "runtime.powerState")["runtime.powerState"] == "poweredOff"


def test_cpumem_changes_only_what_differs(cli, session, vm_name):
    assert cli("clone", "--template", "vhpc_clone", "--vm", vm_name)[0] == 0
    code, out, err = cli("--output", "json", "cpumem", "--vm", vm_name, "--cpu", "6", "--memory", "12",
                         "--cpu_shares", "3000", "--cpu_reservation", "yes", "--memory_reservation", "yes")
    assert code == 0, err
    fields = {c["field"] for c in json.loads(out)["results"][0]["changes"]}
    assert {"cpu", "memory_mb", "cpu_shares", "cpu_reservation_mhz", "memory_reservation_mb"} <= fields
    p = vm_props(session, vm_name, "config.hardware.numCPU", "config.hardware.memoryMB", "config.cpuAllocation",
                 "config.memoryAllocation", "config.memoryReservationLockedToMax")
    assert (p["config.hardware.numCPU"], p["config.hardware.memoryMB"]) == (6, 12288)
    assert p["config.cpuAllocation"].shares.shares == 3000
    assert p["config.cpuAllocation"].reservation > 0 and p["config.cpuAllocation"].reservation % 6 == 0
    assert p["config.memoryAllocation"].reservation == 12288 and p["config.memoryReservationLockedToMax"]
    code, out, _ = cli("--output", "json", "cpumem", "--vm", vm_name, "--cpu", "6", "--memory", "12")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"


def test_cpumem_refuses_powered_on_resize(cli, session, vm_name):
    assert cli("clone", "--template", "vhpc_clone", "--vm", vm_name)[0] == 0
    assert cli("power", "--vm", vm_name, "--on")[0] == 0
    code, _, err = cli("cpumem", "--vm", vm_name, "--cpu", "8")
    assert code == 2 and "hot-add" in err and "nothing was changed" in err
    assert vm_props(session, vm_name, "config.hardware.numCPU")["config.hardware.numCPU"] != 8


def test_latency_high_and_check(cli, session, vm_name):
    assert cli("clone", "--template", "vhpc_clone", "--vm", vm_name)[0] == 0
    assert cli("latency", "--vm", vm_name, "--level", "high")[0] == 0
    p = vm_props(session, vm_name, "config.latencySensitivity", "config.cpuAllocation",
                 "config.memoryReservationLockedToMax")
    assert p["config.latencySensitivity"].level == "high"
    assert p["config.cpuAllocation"].reservation > 0 and p["config.memoryReservationLockedToMax"]
    code, out, _ = cli("--output", "json", "latency", "--vm", vm_name, "--check")
    assert code == 0 and json.loads(out)["results"][0]["level"] == "high"


def test_missing_vm_suggests_near_names(cli):
    code, out, err = cli("power", "--vm", "vhpc_clon", "--on")
    assert code == 2 and out == ""
    assert "VM 'vhpc_clon' not found" in err and "did you mean 'vhpc_clone'" in err


def test_file_with_missing_names_changes_nothing(cli, session, vm_name, tmp_path):
    assert cli("clone", "--template", "vhpc_clone", "--vm", vm_name)[0] == 0
    listing = tmp_path / "vms.txt"
    listing.write_text(f"{vm_name}\nno-such-vm-1\n")
    code, _, err = cli("power", "--file", listing, "--on")
    assert code == 2 and f"{listing}:2" in err and "no-such-vm-1" in err
    assert vm_props(session, vm_name, "runtime.powerState")["runtime.powerState"] == "poweredOff"


def test_ambiguous_name_lists_paths_and_path_resolves(cli, session, vm_name):
    assert cli("clone", "--template", "vhpc_clone", "--vm", vm_name)[0] == 0
    inv = read_inventory(session, {"VirtualMachine": [], "ClusterComputeResource": ["resourcePool"]})
    pool = next(c for c in inv.of_type("ClusterComputeResource") if c.name == "COMPUTE_GPU_Cluster").get("resourcePool")
    dc = inv.of_type("Datacenter")[0]
    vm_folder = next(f for f in inv.of_type("Folder") if f.name == "vm" and inv.parent(f).moid == dc.moid)
    other = vm_folder.ref.CreateFolder(f"other-{vm_name}")
    tpl = inv.find("VirtualMachine", "vhpc_clone")
    wait_for_task(session, tpl.ref.CloneVM_Task(folder=other, name=vm_name, spec=vim.vm.CloneSpec(
        location=vim.vm.RelocateSpec(pool=pool))))
    try:
        code, _, err = cli("power", "--vm", vm_name, "--on")
        assert code == 2 and "matches 2 objects" in err
        assert f"/HPC_Datacenter/vm/other-{vm_name}/{vm_name}" in err
        code, _, err = cli("power", "--vm", f"/HPC_Datacenter/vm/other-{vm_name}/{vm_name}", "--on")
        assert code == 0, err
    finally:
        cli("destroy", "--vm", f"/HPC_Datacenter/vm/other-{vm_name}/{vm_name}")
        wait_for_task(session, other.Destroy_Task())


def test_destroy_powers_off_first(cli, session, vm_name):
    assert cli("clone", "--template", "vhpc_clone", "--vm", vm_name)[0] == 0
    assert cli("power", "--vm", vm_name, "--on")[0] == 0
    code, out, err = cli("--output", "json", "destroy", "--vm", vm_name)
    assert code == 0, err
    assert json.loads(out)["results"][0]["detail"] == "powered off and destroyed"
    assert vm_props(session, vm_name, "name") is None
