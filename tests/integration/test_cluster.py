"""`cluster --create/--destroy` on the lab: one clone spec per VM, idempotent re-runs, drift,
validation before change, failures that do not strand the rest, rollback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import yaml
from pyVmomi import vim

from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task
from tests.reference import CLUSTER_SCRIPTS

REFERENCE = CLUSTER_SCRIPTS


def vms_named(session, prefix):
    inv = read_inventory(session, {"VirtualMachine": [
        "runtime.powerState", "config.hardware.numCPU", "config.hardware.memoryMB", "config.hardware.device",
        "config.memoryReservationLockedToMax", "config.latencySensitivity", "config.extraConfig",
        "config.cpuAllocation", "guest.ipAddress", "runtime.host"], "HostSystem": []})
    out = {}
    for o in inv.of_type("VirtualMachine"):
        if o.name.startswith(prefix):
            props = dict(o.props)
            props["host_name"] = inv.by_ref(o.get("runtime.host")).name
            props["ref"] = o.ref
            out[o.name] = props
    return out


BASE = """
[BASE]
template: vhpc_clone
cpu: 4
memory: 8
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore

[NET]
is_dhcp: false
port_group: vHPC-PG-VMNetwork
netmask: 255.255.255.0
gateway: 172.1.101.1
dns: ['172.1.110.1']
domain: hpc.vmware.com
"""


def test_create_one_clone_task_per_vm_carrying_everything(cli, cluster_file, session, lab):
    path, pfx = cluster_file(BASE + """
[GPU]
device: ['0000:D8:00.0']
mmio_size: 512
latency: high

[_VMS_]
PFX-gpu{1:2}: BASE NET GPU host: vhpc-esx-0{3:4}.hpc.vmware.com ip: 172.1.20.{1:2}
PFX-vgpu: BASE NET host: vhpc-esx-03.hpc.vmware.com ip: 172.1.20.3 vgpu: grid_v100-8q cpu_shares: 3000
PFX-off: BASE host: vhpc-esx-04.hpc.vmware.com power: off
""")
    lab.reset_calls()
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0, err
    calls = lab.calls()["methods"]
    assert calls.get("CloneVM_Task") == 4
    assert not calls.get("ReconfigVM_Task") and not calls.get("PowerOnVM_Task") and not calls.get("CustomizeVM_Task")
    doc = json.loads(out)
    assert {v["name"]: v["status"] for v in doc["vms"]} == {f"{pfx}-gpu1": "created", f"{pfx}-gpu2": "created",
                                                           f"{pfx}-vgpu": "created", f"{pfx}-off": "created"}
    ips = {v["name"]: v["ip"] for v in doc["vms"]}
    assert ips[f"{pfx}-gpu1"] == "172.1.20.1" and ips[f"{pfx}-vgpu"] == "172.1.20.3" and ips[f"{pfx}-off"] is None

    vms = vms_named(session, pfx)
    gpu = vms[f"{pfx}-gpu2"]
    assert gpu["host_name"] == "vhpc-esx-04.hpc.vmware.com" and gpu["runtime.powerState"] == "poweredOn"
    assert (gpu["config.hardware.numCPU"], gpu["config.hardware.memoryMB"]) == (4, 8192)
    pci = [d for d in gpu["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualPCIPassthrough)]
    assert [d.backing.id for d in pci] == ["0000:d8:00.0"]
    extra = {o.key: o.value for o in gpu["config.extraConfig"] or []}
    assert extra.get("pciPassthru.use64bitMMIO") == "TRUE" and extra.get("pciPassthru.64bitMMIOSizeGB") == "512"
    assert gpu["config.memoryReservationLockedToMax"] and gpu["config.latencySensitivity"].level == "high"
    assert gpu["config.cpuAllocation"].reservation > 0
    vgpu = vms[f"{pfx}-vgpu"]
    profiles = [d.backing.vgpu for d in vgpu["config.hardware.device"]
                if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo)]
    assert profiles == ["grid_v100-8q"] and vgpu["config.memoryReservationLockedToMax"]
    assert vgpu["config.cpuAllocation"].shares.shares == 3000
    assert vms[f"{pfx}-off"]["runtime.powerState"] == "poweredOff"

    # A re-run changes nothing, says so, and reads the inventory in a few calls.
    lab.reset_calls()
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0 and ": up to date (" in out, out
    calls = lab.calls()   # the two inventory reads, and the file's lock (AddCustomFieldDef, SetField, Remove...)
    assert calls["total"] <= 12 and calls["methods"]["AddCustomFieldDef"] == 1, calls
    hostfile, inventory = path.parent / "hosts", path.parent / "inventory.yml"
    code, out, _ = cli("--output", "json", "cluster", "--create", "--file", path, "--hostfile", hostfile,
                       "--inventory", inventory)
    doc = json.loads(out)
    assert code == 0 and doc["up_to_date"] is True
    assert "172.1.20.1 slots=4  # " + f"{pfx}-gpu1" in hostfile.read_text()
    assert f"# {pfx}-off: no IP yet" in hostfile.read_text()  # powered off: no IP, still named
    hosts = yaml.safe_load(inventory.read_text())["all"]["children"][path.stem]["hosts"]
    assert hosts[f"{pfx}-vgpu"]["ansible_host"] == "172.1.20.3"
    assert {v["name"]: (v["status"], v["ip"]) for v in doc["vms"]}[f"{pfx}-gpu1"] == ("up to date", "172.1.20.1")


def test_drift_is_reported_and_fixed_where_it_can_be(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-a: BASE host: vhpc-esx-02.hpc.vmware.com power: off\n"
                                    "PFX-b: BASE host: vhpc-esx-02.hpc.vmware.com\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    vms = vms_named(session, pfx)
    for name in (f"{pfx}-a", f"{pfx}-b"):  # someone resizes both VMs behind our back
        spec = vim.vm.ConfigSpec(numCPUs=2)
        ref = vms[name]["ref"]
        if vms[name]["runtime.powerState"] == "poweredOn":
            wait_for_task(session, ref.PowerOffVM_Task())
            wait_for_task(session, ref.ReconfigVM_Task(spec=spec))
            wait_for_task(session, ref.PowerOnVM_Task())
        else:
            wait_for_task(session, ref.ReconfigVM_Task(spec=spec))
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    doc = json.loads(out)
    assert code == 1 and doc["matches"] is False, err   # drift is not success ...
    assert any(f"1 VM differs from the file ({pfx}-b;" in r for r in doc["verdict"]), doc["verdict"]
    status = {v["name"]: v for v in doc["vms"]}
    assert status[f"{pfx}-a"]["status"] == "reconfigured" and "cpu: 2 -> 4" in status[f"{pfx}-a"]["detail"]
    assert status[f"{pfx}-b"]["status"] == "drift" and "--allow-power-off" in status[f"{pfx}-b"]["detail"]
    assert doc["up_to_date"] is False
    code, out, err = cli("--output", "json", "cluster", "--create", "--allow-drift", "--file", path)
    assert code == 0 and json.loads(out)["up_to_date"] is False, err   # ... unless accepted
    assert cli("cluster", "--status", "--file", path)[0] == 1          # the same verdict from --status
    assert cli("cluster", "--status", "--allow-drift", "--file", path)[0] == 0
    assert vms_named(session, pfx)[f"{pfx}-a"]["config.hardware.numCPU"] == 4
    assert vms_named(session, pfx)[f"{pfx}-b"]["config.hardware.numCPU"] == 2
    # With --allow-power-off the running VM is powered off, resized and powered on again.
    code, out, err = cli("--output", "json", "cluster", "--create", "--allow-power-off", "--file", path)
    assert code == 0, err
    assert "powering off to resize: ended 1/1, 0 failed" in err and "powering on: ended 1/1" in err, err
    b = next(v for v in json.loads(out)["vms"] if v["name"] == f"{pfx}-b")
    assert b["status"] == "reconfigured" and "cpu: 2 -> 4" in b["detail"] and "powered on" in b["detail"]
    after = vms_named(session, pfx)[f"{pfx}-b"]
    assert after["config.hardware.numCPU"] == 4 and after["runtime.powerState"] == "poweredOn"


def test_validation_failures_leave_nothing_behind(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + """
[_VMS_]
PFX-ok: BASE host: vhpc-esx-03.hpc.vmware.com
PFX-nohost: BASE host: vhpc-esx-42.hpc.vmware.com
PFX-gpu{1:2}: BASE host: vhpc-esx-03.hpc.vmware.com device: ['0000:3b:00.0']
PFX-badgpu: BASE host: vhpc-esx-02.hpc.vmware.com device: ['0000:aa:00.0']
PFX-vgpu: BASE host: vhpc-esx-02.hpc.vmware.com vgpu: grid_k80-1q
PFX-pg: BASE host: vhpc-esx-02.hpc.vmware.com port_group: no-such-pg
""")
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert any("vhpc-esx-42.hpc.vmware.com" in line and f"{path}:" in line for line in lines)
    assert any("in use by" in line and f"{pfx}-gpu1" in line and f"{pfx}-gpu2" in line for line in lines)
    assert any("0000:aa:00.0" in line and "offers" in line for line in lines)
    assert any("grid_k80-1q" in line and "grid_v100-1q" in line for line in lines)
    assert any("no-such-pg" in line for line in lines)
    assert "nothing was changed" in err
    assert vms_named(session, pfx) == {}


def _sabotage_one(monkeypatch, victim):
    """Make one VM's clone task fail in vCenter (an invalid pool), as a real fault would."""
    import vhpc_toolkit.cluster.applying.apply as apply_mod

    real = apply_mod.build_clone_spec

    def build(plan, *a, **kw):
        spec = real(plan, *a, **kw)
        if plan.name == victim:
            spec.location.pool = None
        return spec

    monkeypatch.setattr(apply_mod, "build_clone_spec", build)


def test_one_failing_vm_does_not_stop_the_others(cli, cluster_file, session, monkeypatch):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-{1:4}: BASE host: vhpc-esx-03.hpc.vmware.com\n")
    _sabotage_one(monkeypatch, f"{pfx}-3")
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 1
    doc = json.loads(out)
    status = {v["name"]: v["status"] for v in doc["vms"]}
    assert status == {f"{pfx}-1": "created", f"{pfx}-2": "created", f"{pfx}-3": "failed", f"{pfx}-4": "created"}
    failed = next(v for v in doc["vms"] if v["status"] == "failed")
    assert "pool" in failed["detail"]
    assert "1 failed" in doc["summary"] and "3 created" in doc["summary"]
    assert sorted(vms_named(session, pfx)) == [f"{pfx}-1", f"{pfx}-2", f"{pfx}-4"]


def test_rollback_destroys_what_this_run_created(cli, cluster_file, session, monkeypatch):
    path, pfx = cluster_file(BASE + "[_SVS_]\nPFX-svs: host: vhpc-esx-0{1:2}.hpc.vmware.com pnic: vmnic4 "
                                    "port_group: PFX-pg\n[_VMS_]\nPFX-{1:3}: BASE host: vhpc-esx-03.hpc.vmware.com\n")
    _sabotage_one(monkeypatch, f"{pfx}-2")
    code, out, err = cli("--output", "json", "cluster", "--create", "--rollback", "--file", path)
    assert code == 1
    doc = json.loads(out)
    status = {v["name"]: v["status"] for v in doc["vms"]}
    assert status == {f"{pfx}-1": "rolled back", f"{pfx}-2": "failed", f"{pfx}-3": "rolled back"}
    assert [s["status"] for s in doc["switches"]] == ["rolled back"]
    assert vms_named(session, pfx) == {}
    inv = read_inventory(session, {"HostSystem": ["config.network.vswitch"]})
    assert not any(sw.name == f"{pfx}-svs" for h in inv.of_type("HostSystem")
                   for sw in h.get("config.network.vswitch") or [])


def test_destroy_lists_absent_names_and_touches_nothing_else(cli, cluster_file, session, tmp_path):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-{1:2}: BASE host: vhpc-esx-03.hpc.vmware.com\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    bigger = path   # the same file (its VMs carry its mark), now naming one VM more
    bigger.write_text(path.read_text().replace(f"{pfx}-{{1:2}}", f"{pfx}-{{1:3}}"))
    bystander = f"{pfx}-bystander"
    assert cli("clone", "--template", "vhpc_clone", "--vm", bystander)[0] == 0
    try:
        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", bigger)
        assert code == 0, err
        rows = {r["vm"]: r for r in json.loads(out)["results"]}
        assert rows[f"{pfx}-3"]["detail"] == "absent" and rows[f"{pfx}-1"]["status"] == "changed"
        assert sorted(vms_named(session, pfx)) == [bystander]
    finally:
        cli("destroy", "--vm", bystander)


def test_destroy_without_yes_off_a_terminal_refuses(lab, run_cli, cluster_file):
    path, _ = cluster_file(BASE + "[_VMS_]\nPFX-1: BASE host: vhpc-esx-03.hpc.vmware.com\n")
    assert run_cli("--vcenter-conf", lab.conf, "--yes", "cluster", "--create", "--file", path)[0] == 0
    code, _, err = run_cli("--vcenter-conf", lab.conf, "cluster", "--destroy", "--file", path)
    assert code == 2 and "--yes" in err


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference not beside the repository")
def test_reference_simple_file_fails_validation_cleanly(cli):
    code, out, err = cli("cluster", "--create", "--file", REFERENCE / "cluster-simple.conf")
    assert code == 2 and "hello_world1.sh" in err and "Traceback" not in err
    assert "cluster-simple.conf:" in err


def test_ctrl_c_reports_exactly_which_vms_exist(cli, cluster_file, session, monkeypatch):
    from vhpc_toolkit.vsphere import tasks as tasks_mod

    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-{1:4}: BASE host: vhpc-esx-03.hpc.vmware.com\n")

    def interrupted_wait(self, max_wait, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(tasks_mod.TaskWatcher, "wait", interrupted_wait)
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    monkeypatch.undo()
    assert code == 130
    doc = json.loads(out)
    existing = set(vms_named(session, pfx))
    for vm in doc["vms"]:
        if vm["name"] in existing:
            assert "exists" in vm["detail"] or vm["status"] == "created", vm
        else:
            assert vm["detail"] == "interrupted; not created", vm
    assert any("interrupted" in n for n in doc["notes"])


def test_post_scripts_by_barrier_and_a_failure_stops_later_ones(cli, cluster_file, tmp_path, lab):
    (tmp_path / "first.sh").write_text("#!/bin/sh\ndate +%s.%N > /tmp/first\necho first on $(cat /etc/hostname)\n")
    (tmp_path / "fails.sh").write_text("#!/bin/sh\necho about to fail\nexit 7\n")
    (tmp_path / "never.sh").write_text("#!/bin/sh\ntouch /tmp/never\n")
    path, pfx = cluster_file(BASE + f"""
[LOGIN]
guest_username: root
guest_password: VMware1!

[_VMS_]
PFX-a: BASE LOGIN host: vhpc-esx-03.hpc.vmware.com script: {tmp_path}/first.sh barrier: 1 script: {tmp_path}/never.sh barrier: 3
PFX-b: BASE LOGIN host: vhpc-esx-02.hpc.vmware.com script: {tmp_path}/fails.sh barrier: 2
""")
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 1
    doc = json.loads(out)
    assert {v["name"]: v["status"] for v in doc["vms"]} == {f"{pfx}-a": "created", f"{pfx}-b": "created"}
    runs = {(r["vm"], Path(r["path"]).name): r for r in doc["post"]["results"]}
    assert runs[(f"{pfx}-a", "first.sh")]["status"] == "ok"
    failed = runs[(f"{pfx}-b", "fails.sh")]
    assert failed["status"] == "failed" and failed["exit_code"] == 7 and "about to fail" in failed["output_tail"]
    assert runs[(f"{pfx}-a", "never.sh")]["status"] == "not run"
    assert (lab.guest_root / f"{pfx}-a" / "tmp" / "first").exists()
    assert not (lab.guest_root / f"{pfx}-a" / "tmp" / "never").exists()


def test_scripts_without_a_guest_password_are_refused_before_any_change(lab, run_cli, cluster_file, tmp_path,
                                                                         session, monkeypatch):
    monkeypatch.delenv("VHPC_GUEST_PASSWORD", raising=False)
    monkeypatch.delenv("VHPC_GUEST_VAULT_PATH", raising=False)
    (tmp_path / "s.sh").write_text("#!/bin/sh\ntrue\n")
    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-a: BASE host: vhpc-esx-03.hpc.vmware.com script: {tmp_path}/s.sh\n")
    code, _, err = run_cli("--vcenter-conf", lab.conf, "--yes", "cluster", "--create", "--file", path)
    assert code == 2 and "password" in err and f"{path}:" in err
    assert vms_named(session, pfx) == {}


RUNNABLE_REFERENCE = ["cluster-gpu-passthru.conf", "cluster-linked-clone.conf", "cluster-vgpu.conf",
                      "cluster-sriov.conf", "cluster-pvrdma.conf"]


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference not beside the repository")
@pytest.mark.parametrize("name", RUNNABLE_REFERENCE)
def test_reference_files_run_unmodified(cli, session, name):
    path = REFERENCE / name
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err
        doc = json.loads(out)
        assert doc["vms"] and all(v["status"] == "created" and v["ip"] for v in doc["vms"])
        code, out, _ = cli("cluster", "--create", "--file", path)
        assert code == 0 and ": up to date (" in out, out
    finally:
        code, _, err = cli("cluster", "--destroy", "--file", path)
        assert code == 0, err
    names = {v["name"] for v in doc["vms"]}
    inv = read_inventory(session, {"VirtualMachine": []})
    assert not names & {o.name for o in inv.of_type("VirtualMachine")}


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference not beside the repository")
def test_reference_sriov_gpu_file_names_a_missing_script(cli):
    code, _, err = cli("cluster", "--create", "--file", REFERENCE / "cluster-sriov-gpu.conf")
    assert code == 2 and "adduser_foo.sh" in err and "Traceback" not in err


def test_mixed_file_with_every_device_type_and_switches(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + """
[SRIOV]
sriov_port_group: PFX-sriov-pg
pf: 0000:af:00.0

[RDMA]
pvrdma_port_group: PFX-rdma-pg
dvs_name: PFX-dvs

[_SVS_]
PFX-svs: host: vhpc-esx-0{1:8}.hpc.vmware.com pnic: vmnic4 port_group: PFX-sriov-pg

[_DVS_]
PFX-dvs: host: vhpc-esx-0{1:8}.hpc.vmware.com pnic: vmnic5 port_group: PFX-rdma-pg datacenter: HPC_Datacenter

[_VMS_]
PFX-all: BASE NET SRIOV RDMA host: vhpc-esx-06.hpc.vmware.com ip: 172.1.30.1 device: ['0000:d8:00.0'] latency: high
PFX-vgpu: BASE NET SRIOV host: vhpc-esx-06.hpc.vmware.com ip: 172.1.30.2 vgpu: grid_v100-4q
""")
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err + out
        doc = json.loads(out)
        assert {s["name"]: s["status"] for s in doc["switches"]} == {f"{pfx}-svs": "created", f"{pfx}-dvs": "created"}
        vms = vms_named(session, pfx)
        devices = vms[f"{pfx}-all"]["config.hardware.device"]
        kinds = {type(d).__name__.split(".")[-1] for d in devices}
        assert {"VirtualPCIPassthrough", "VirtualSriovEthernetCard", "VirtualVmxnet3Vrdma", "VirtualVmxnet3"} <= kinds
        sriov = next(d for d in devices if isinstance(d, vim.vm.device.VirtualSriovEthernetCard))
        assert sriov.sriovBacking.physicalFunctionBacking.id == "0000:af:00.0"
        assert sriov.backing.deviceName == f"{pfx}-sriov-pg"
        assert vms[f"{pfx}-all"]["guest.ipAddress"] == "172.1.30.1"
        code, out, _ = cli("cluster", "--create", "--file", path)
        assert code == 0 and ": up to date (" in out, out
    finally:
        code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err
    assert {s["name"]: s["status"] for s in json.loads(out)["switches"]} == {
        f"{pfx}-svs": "destroyed", f"{pfx}-dvs": "destroyed"}
    assert vms_named(session, pfx) == {}


def test_our_simple_example_runs_its_two_barriers_in_order(cli, lab, session):
    path = Path(__file__).resolve().parents[2] / "examples" / "cluster-scripts" / "cluster-simple.conf"
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err + out
        runs = json.loads(out)["post"]["results"]
        assert [(r["vm"], Path(r["path"]).name, r["barrier"], r["status"]) for r in runs] == [
            ("vhpc-vm01", "hello_world1.sh", 0, "ok"), ("vhpc-vm02", "hello_world2.sh", 1, "ok")]
        assert "hello world 1" in "\n".join(runs[0]["output_tail"])
        assert (lab.guest_root / "vhpc-vm01" / "tmp" / "vhpc-hello.log").exists()
    finally:
        assert cli("cluster", "--destroy", "--file", path)[0] == 0
