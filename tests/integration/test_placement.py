"""Placement on the lab: files (and clones) that say what a VM needs, not where it goes. Every choice
the planner makes is read back with pyVmomi: the host, the GPU ids, the NUMA affinity, the
peer-to-peer settings, the Dynamic DirectPath backing, the DRS rule. Hosts vhpc-esx-02..08 of
COMPUTE_GPU_Cluster; assertions hold whether vhpc-esx-01 is in the cluster or not."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from pyVmomi import vim

from tests.integration.test_cluster import BASE, vms_named
from tests.integration.test_json_schemas import check
from vhpc_toolkit.vsphere.inventory import read_inventory

GPU_IDS = {"0000:3b:00.0", "0000:d8:00.0"}


def passthrough(vm):
    return [d.backing.id for d in vm["config.hardware.device"]
            if isinstance(d, vim.vm.device.VirtualPCIPassthrough)
            and isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo)]


def options(vm):
    return {o.key: o.value for o in vm["config.extraConfig"] or []}


def rules(session, name):
    inv = read_inventory(session, {"ClusterComputeResource": ["configurationEx"], "VirtualMachine": []})
    out = []
    for c in inv.of_type("ClusterComputeResource"):
        for r in getattr(c.get("configurationEx"), "rule", None) or []:
            if r.name == name:
                out.append((c.name, r, sorted(inv.by_ref(v).name for v in r.vm or [] if inv.by_ref(v))))
    return out


def create(cli, path, *extra):
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path, *extra)
    assert code == 0, err
    return json.loads(out)


def test_gpu_nodes_without_hosts_are_placed_apart_read_back_and_never_moved(cli, cluster_file, session):
    body = BASE + "[_VMS_]\nPFX-n{1:3}: BASE gpu: 1 gpu_model: V100 anti_affinity: PFX-g memory: 16\n"
    path, pfx = cluster_file(body)
    doc = create(cli, path)
    check(doc, "cluster")
    chosen = {v["name"]: v["placement"] for v in doc["vms"]}
    got = vms_named(session, pfx)
    assert len(got) == 3
    for name, vm in got.items():
        assert vm["host_name"] == chosen[name]["host"]
        assert passthrough(vm) == [g["id"] for g in chosen[name]["gpus"]] and set(passthrough(vm)) <= GPU_IDS
        assert vm["config.memoryReservationLockedToMax"] and vm["runtime.powerState"] == "poweredOn"
    assert len({vm["host_name"] for vm in got.values()}) == 3                      # apart
    (cluster, rule, members), = rules(session, f"{pfx}-g")
    assert cluster == "COMPUTE_GPU_Cluster" and members == sorted(got) and rule.inCompliance
    assert doc["rules"] == [{"name": f"{pfx}-g", "cluster": cluster, "status": "created",
                             "detail": "created: 3 VMs on different hosts"}]

    assert create(cli, path)["up_to_date"] is True                                 # re-run: nothing to do
    path.write_text(body.replace("PFX", pfx).replace("n{1:3}", "n{1:5}"))          # grow: place only the new
    doc = create(cli, path)
    assert {v["name"]: v["status"] for v in doc["vms"]} == {
        **{f"{pfx}-n{i}": "up to date" for i in (1, 2, 3)}, **{f"{pfx}-n{i}": "created" for i in (4, 5)}}
    again = vms_named(session, pfx)
    assert {n: again[n]["host_name"] for n in got} == {n: got[n]["host_name"] for n in got}   # never moved
    assert len({vm["host_name"] for vm in again.values()}) == 5
    (_, rule, members), = rules(session, f"{pfx}-g")
    assert members == sorted(again) and rule.key == rules(session, f"{pfx}-g")[0][1].key
    code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", path)
    assert code == 0, err
    check(json.loads(out), "cluster-destroy")
    assert json.loads(out)["rules"] == [{"name": f"{pfx}-g", "cluster": cluster, "status": "destroyed",
                                         "detail": "removed"}]
    assert rules(session, f"{pfx}-g") == []


def test_rollback_removes_the_rule_it_created(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-ok: BASE NET anti_affinity: PFX-g ip: 172.1.101.40\n"
                                    "PFX-custfail: BASE NET anti_affinity: PFX-g ip: 172.1.101.41\n")
    code, out, err = cli("--output", "json", "cluster", "--create", "--rollback", "--ip-timeout", "60",
                         "--file", path)
    assert code == 1, err
    doc = json.loads(out)
    assert {v["status"] for v in doc["vms"]} == {"rolled back", "failed"}
    assert doc["rules"][0]["status"] == "destroyed" and rules(session, f"{pfx}-g") == []
    assert f"{pfx}-ok" not in vms_named(session, pfx)


def test_an_impossible_file_is_one_error_saying_what_is_short_and_where(cli, cluster_file, session, lab):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-n{1:12}: BASE gpu: 2 gpu_model: V100\n")
    lab.reset_calls()
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2
    line, = [x for x in err.splitlines() if "needs" in x]
    assert re.search(rf"{re.escape(str(path))}:\d+: needs 24 V100 \(gpu: 2 on 12 VMs, line \d+\), \d+ free on "
                     r"COMPUTE_GPU_Cluster: vhpc-esx-0\d \d", line), line
    assert "nothing was changed" in err and vms_named(session, pfx) == {}
    assert "CloneVM_Task" not in lab.calls()["methods"]


def test_pack_fills_a_host_before_the_next_and_spread_does_not(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-p{1:2}: BASE gpu: 1 placement: pack power: off\n"
                                    "PFX-s{1:2}: BASE gpu: 1 power: off\n")
    create(cli, path)
    got = vms_named(session, pfx)
    assert got[f"{pfx}-p1"]["host_name"] == got[f"{pfx}-p2"]["host_name"]
    assert sorted(passthrough(got[f"{pfx}-p1"]) + passthrough(got[f"{pfx}-p2"])) == sorted(GPU_IDS)
    assert got[f"{pfx}-s1"]["host_name"] != got[f"{pfx}-s2"]["host_name"]


def test_gpus_beside_the_sriov_adapter_numa_affinity_and_peer_to_peer(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + "[_VMS_]\n"
                             "PFX-local: BASE gpu: 1 sriov_port_group: vHPC-PG-VMNetwork pf: 0000:af:00.0\n"
                             "PFX-p2p: BASE gpu: 2 hugepages_1g: yes\n")
    doc = create(cli, path)
    got = vms_named(session, pfx)
    local = got[f"{pfx}-local"]
    assert passthrough(local) == ["0000:d8:00.0"] and options(local)["numa.nodeAffinity"] == "1"
    placement = next(v["placement"] for v in doc["vms"] if v["name"] == f"{pfx}-local")
    assert placement["numa_node"] == 1 and placement["gpus"][0]["numa_node"] == 1
    p2p = got[f"{pfx}-p2p"]
    assert sorted(passthrough(p2p)) == sorted(GPU_IDS)
    opts = options(p2p)
    assert opts["pciPassthru.allowP2P"] == "TRUE" and opts["pciPassthru.RelaxACSforP2P"] == "TRUE"
    assert opts["sched.mem.lpage.enable1GPage"] == "TRUE" and p2p["config.memoryReservationLockedToMax"]
    assert "numa.nodeAffinity" not in opts and p2p["runtime.powerState"] == "poweredOn"


def test_dynamic_directpath_gpu_with_a_hardware_label(cli, cluster_file, session):
    inv = read_inventory(session, {"HostSystem": ["configManager.assignableHardwareManager"]})
    host = inv.find("HostSystem", "vhpc-esx-06.hpc.vmware.com")
    manager = host.get("configManager.assignableHardwareManager")
    label = f"t{uuid.uuid4().hex[:6]}"
    manager.UpdateAssignableHardwareConfig(config=vim.host.AssignableHardwareConfig(attributeOverride=[
        vim.host.AssignableHardwareConfig.AttributeOverride(instanceId="0000:3b:00.0", name="customLabel",
                                                            value=label)]))
    try:
        path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-dyn: BASE gpu: 1 gpu_label: {label} dynamic: yes "
                                        "hardware_version: 17\n")
        create(cli, path)
        vm, = vms_named(session, pfx).values()
        assert vm["host_name"] == "vhpc-esx-06.hpc.vmware.com"
        dyn, = [d.backing for d in vm["config.hardware.device"]
                if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)]
        assert dyn.customLabel == label and dyn.assignedId == "0000:3b:00.0"
        assert [(a.vendorId, a.deviceId) for a in dyn.allowedDevice] == [(0x10de, 0x1db4)]
        path2, _ = cluster_file(BASE + f"[_VMS_]\nPFX-dyn2: BASE gpu: 1 gpu_label: {label} dynamic: yes "
                                       "hardware_version: 17\n",
                                name="c2.conf")
        code, _, err = cli("cluster", "--create", "--file", path2)
        assert code == 2 and f"needs 1 GPU labelled {label}" in err and "0 free" in err
    finally:
        manager.UpdateAssignableHardwareConfig(config=vim.host.AssignableHardwareConfig())


def test_pinned_hosts_that_break_a_group_are_refused(cli, cluster_file, session):
    path, pfx = cluster_file(BASE + "[_VMS_]\nPFX-a{1:2}: BASE host: vhpc-esx-07.hpc.vmware.com "
                                    "anti_affinity: PFX-g\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and "already has a VM of anti-affinity group" in err
    assert vms_named(session, pfx) == {}


def test_planning_adds_no_round_trip_per_vm(cli, cluster_file, lab):
    calls = {}
    for n in (2, 6):
        path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-n{{1:{n}}}: BASE gpu: 1 power: off\n", name=f"c{n}.conf")
        lab.reset_calls()
        create(cli, path)
        calls[n] = lab.calls()["methods"]
        cli("cluster", "--destroy", "--file", path)
    for n, methods in calls.items():
        assert methods["CloneVM_Task"] == n
        assert methods.get("QueryConfigTarget", 0) <= n              # at most once per host used
    assert calls[6]["RetrievePropertiesEx"] == calls[2]["RetrievePropertiesEx"]


def test_clone_with_requests(cli, session):
    name = f"tc{uuid.uuid4().hex[:6]}"
    try:
        code, out, err = cli("--output", "json", "clone", "--template", "vhpc_clone", "--vm", name, "--gpu", "2",
                             "--gpu_model", "V100", "--memory", "8")
        assert code == 0, err
        result, = json.loads(out)["results"]
        vm, = vms_named(session, name).values()
        assert vm["host_name"] == result["placement"]["host"] and sorted(passthrough(vm)) == sorted(GPU_IDS)
        assert vm["config.memoryReservationLockedToMax"] and vm["runtime.powerState"] == "poweredOff"
        assert options(vm)["pciPassthru.allowP2P"] == "TRUE"
        code, _, err = cli("clone", "--template", "vhpc_clone", "--vm", name + "x", "--gpu", "3")
        assert code == 2 and "no host can take it (3 x GPU)" in err and "nothing was cloned" in err
    finally:
        cli("destroy", "--vm", name)


@pytest.mark.parametrize("example", ["cluster-gpu-placement.conf"])
def test_the_example_builds_a_16_node_gpu_cluster(cli, session, example):
    from tests.unit.test_clusterfile_examples import EXAMPLES

    path = EXAMPLES / example
    try:
        doc = create(cli, path)
        assert [v["status"] for v in doc["vms"]] == ["created"] * 16
        got = vms_named(session, "train") | vms_named(session, "infer")
        train = [v for n, v in got.items() if n.startswith("train")]
        assert len({v["host_name"] for v in train}) == 6 and all(len(passthrough(v)) == 2 for v in train)
        assert rules(session, "train")[0][2] == sorted(n for n in got if n.startswith("train"))
    finally:
        code, _, err = cli("cluster", "--destroy", "--file", path)
        assert code == 0, err
    assert rules(session, "train") == []


# --- vGPUs the way NVIDIA's current GPUs do them: the A100 lab (vhpc-esx-09 MIG, vhpc-esx-10 time-sliced)

@pytest.fixture
def a100_cli(a100_lab, run_cli):
    return lambda *argv: run_cli("--vcenter-conf", a100_lab.conf, "--yes", *argv)


@pytest.fixture(scope="module")
def a100_session(a100_lab):
    s = a100_lab.connect()
    yield s
    s.close()


def vgpus(vm):
    return [d.backing.vgpu for d in vm["config.hardware.device"]
            if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo)]


def test_mig_vgpus_one_per_vm_placed_on_the_mig_host(a100_cli, a100_session, tmp_path):
    """NVIDIA vGPU on vSphere 7 gives a VM one MIG-backed vGPU: two in one VM are refused with the file;
    four VMs of one 3-slice instance each fill the MIG host's two GPUs (two instances each)."""
    pfx = f"m{uuid.uuid4().hex[:6]}"
    path = tmp_path / "mig.conf"
    path.write_text(BASE.replace("PFX", pfx) + f"[_VMS_]\n{pfx}-m1: BASE vgpu: ['grid_a100-3-20c', 'grid_a100-3-20c']\n")
    code, _, err = a100_cli("cluster", "--create", "--file", path)
    assert code == 2 and "MIG-backed and smaller types are one per VM" in err and f"{path}:" in err, err
    path.write_text(BASE.replace("PFX", pfx) + f"[_VMS_]\n{pfx}-m{{{{1:4}}}}: BASE vgpu: grid_a100-3-20c\n")
    try:
        code, out, err = a100_cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err
        doc = json.loads(out)
        check(doc, "cluster")
        assert sorted(g for v in doc["vms"] for g in v["placement"]["vgpu_gpus"]) == \
            ["0000:65:00.0", "0000:65:00.0", "0000:e3:00.0", "0000:e3:00.0"]
        got = vms_named(a100_session, pfx)
        assert {v["host_name"] for v in got.values()} == {"vhpc-esx-09.hpc.vmware.com"}
        assert all(vgpus(v) == ["grid_a100-3-20c"] and v["runtime.powerState"] == "poweredOn" for v in got.values())
        code, out, err = a100_cli("--output", "json", "vgpu", "--vm", f"{pfx}-m1", "--query")
        assert code == 0, err
        row, = json.loads(out)["results"]
        profiles = {p["profile"]: p for p in row["profiles"]}
        assert profiles["grid_a100-3-20c"]["size"] == "20 GB, 3 slices" and profiles["grid_a100-3-20c"]["sharing"] == "MIG"
        # two 3-slice instances take all 8 memory slices of each GPU: no room even for a 1-slice one
        assert profiles["grid_a100-3-20c"]["free"] == 0 and profiles["grid_a100-1-5c"]["free"] == 0
        gpus = {g["id"]: g for g in row["gpus"]}
        assert gpus["0000:65:00.0"]["sharing"] == "MIG" and gpus["0000:65:00.0"]["vgpus"] == ["grid_a100-3-20c"] * 2
        code, out, _ = a100_cli("--output", "json", "view")
        host = next(h for c in json.loads(out)["datacenters"][0]["clusters"] for h in c["hosts"]
                    if h["name"] == "vhpc-esx-09.hpc.vmware.com")
        shared = {g["id"]: g for g in host["gpus"] if g["mode"] == "vgpu"}
        assert set(shared["0000:e3:00.0"]["free"].values()) == {0} and shared["0000:e3:00.0"]["sharing"] == "MIG"
        code, out, _ = a100_cli("view")
        assert "MIG; runs 2 x grid_a100-3-20c; full" in out
        # a fifth such VM: one error saying what is short and where
        path.write_text(path.read_text().replace("{{1:4}}", "{{1:5}}"))
        code, _, err = a100_cli("cluster", "--create", "--file", path)
        assert code == 2 and "needs 1 vGPU grid_a100-3-20c" in err and "room for 0 on COMPUTE_GPU_Cluster" in err, err
    finally:
        a100_cli("cluster", "--destroy", "--file", path)


def test_vgpu_add_several_profiles_checked_before_any_change(a100_cli, a100_session):
    name = f"v{uuid.uuid4().hex[:6]}"
    assert a100_cli("clone", "--template", "vhpc_clone", "--vm", name, "--host", "vhpc-esx-10.hpc.vmware.com")[0] == 0
    try:
        code, _, err = a100_cli("vgpu", "--vm", name, "--add", "--profile", "grid_a100-3-20c")
        assert code == 2 and "grid_a100-3-20c is not offered" in err            # a time-sliced host
        # NVIDIA: several vGPUs in one VM only of a whole-GPU type (grid_a100-40c), not two halves
        code, _, err = a100_cli("vgpu", "--vm", name, "--add", "--profile", "grid_a100-20c", "grid_a100-20c")
        assert code == 2 and "grid_a100-40c" in err and "nothing was changed" in err, err
        code, out, err = a100_cli("--output", "json", "vgpu", "--vm", name, "--add", "--profile",
                                  "grid_a100-40c", "grid_a100-40c")
        assert code == 0, err
        vm, = vms_named(a100_session, name).values()
        assert vgpus(vm) == ["grid_a100-40c"] * 2 and vm["config.memoryReservationLockedToMax"]
        assert a100_cli("power", "--vm", name, "--on")[0] == 0
        code, out, _ = a100_cli("--output", "json", "vgpu", "--vm", name, "--query")
        free = {p["profile"]: p["free"] for p in json.loads(out)["results"][0]["profiles"]}
        assert free["grid_a100-40c"] == 0 and free["grid_a100-4c"] == 0
    finally:
        a100_cli("destroy", "--vm", name)


def test_prune_frees_what_its_vms_hold_for_the_vms_placed_in_the_same_run(cli, cluster_file, session):
    """Both passthrough GPUs of a host are taken by n1, n2; the file then drops n2 and adds m1 there.
    Without --prune that is a shortage; with it, n2 is destroyed first and m1 gets its GPU."""
    host = "vhpc-esx-02.hpc.vmware.com"
    path, pfx = cluster_file(BASE + f"[_VMS_]\nPFX-n{{1:2}}: BASE gpu: 1 host: {host}\n")
    create(cli, path)
    held = {n: passthrough(vm) for n, vm in vms_named(session, pfx).items()}
    assert sorted(sum(held.values(), [])) == sorted(GPU_IDS)                       # the host is full
    path.write_text(BASE.replace("PFX", pfx) + f"[_VMS_]\n{pfx}-n{{1:1}}: BASE gpu: 1 host: {host}\n"
                    f"{pfx}-m1: BASE gpu: 1 host: {host}\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and "GPU" in err                                              # nothing free without --prune
    doc = create(cli, path, "--prune")
    assert [(p["name"], p["status"]) for p in doc["pruned"]] == [(f"{pfx}-n2", "destroyed")]
    now = vms_named(session, pfx)
    assert sorted(now) == [f"{pfx}-m1", f"{pfx}-n1"]
    assert passthrough(now[f"{pfx}-n1"]) == held[f"{pfx}-n1"] and passthrough(now[f"{pfx}-m1"]) == held[f"{pfx}-n2"]
    assert now[f"{pfx}-m1"]["runtime.powerState"] == "poweredOn"
