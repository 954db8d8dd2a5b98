"""A cluster's life after create: --status, growing and shrinking a range, --prune, exports."""
from __future__ import annotations

import json
import re
import uuid

import yaml

from tests.integration.test_json_schemas import check
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

HOSTS = "vhpc-esx-0{5:6}.hpc.vmware.com"


def names(session, prefix):
    inv = read_inventory(session, {"VirtualMachine": []})
    return sorted(o.name for o in inv.of_type("VirtualMachine") if o.name.startswith(prefix))


def write(path, pfx, last, extra=""):
    path.write_text(f"[B]\ntemplate: vhpc_clone\ncpu: 2\nmemory: 4\n"
                    f"[_VMS_]\n{pfx}-node{{1:{last}}}: B host: {HOSTS} power: off\n{extra}")


def test_status_scale_out_scale_in_and_prune(cli, session, tmp_path):
    pfx = f"l{uuid.uuid4().hex[:5]}"
    path = tmp_path / "c.conf"
    write(path, pfx, 2, f"{pfx}-node: B host: vhpc-esx-05.hpc.vmware.com power: off\n")   # no range
    try:
        # Nothing yet: status says so and exits 1.
        code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
        assert code == 1, err
        doc = json.loads(out)
        check(doc, "status")
        assert {v["name"]: v["status"] for v in doc["vms"]} == {f"{pfx}-node1": "absent", f"{pfx}-node2": "absent",
                                                                f"{pfx}-node": "absent"}
        assert cli("cluster", "--create", "--file", path)[0] == 0
        code, out, _ = cli("--output", "json", "cluster", "--status", "--file", path)
        assert code == 0 and json.loads(out)["matches"] is True

        # Scale out: the range grows, --create adds only what is missing.
        write(path, pfx, 4, f"{pfx}-node: B host: vhpc-esx-05.hpc.vmware.com power: off\n")
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err
        assert {v["name"]: v["status"] for v in json.loads(out)["vms"]} == {
            f"{pfx}-node1": "up to date", f"{pfx}-node2": "up to date", f"{pfx}-node3": "created",
            f"{pfx}-node4": "created", f"{pfx}-node": "up to date"}

        # Scale in: the range shrinks; the extra VMs are left alone and named, and the cluster does
        # not match its file: --create and --status give the same verdict (exit 1).
        write(path, pfx, 2, f"{pfx}-node: B host: vhpc-esx-05.hpc.vmware.com power: off\n")
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        doc = json.loads(out)
        assert code == 1 and doc["matches"] is False, err
        assert any(f"{pfx}-node3, {pfx}-node4" in n and "--prune" in n for n in doc["notes"])
        assert [s["name"] for s in doc["not_in_file"]] == [f"{pfx}-node3", f"{pfx}-node4"]
        assert doc["verdict"] == [f"2 VMs not in the file ({pfx}-node3, {pfx}-node4; "
                                  "cluster --create --prune destroys those it made)"]
        assert len(names(session, pfx)) == 5
        code, out, _ = cli("--output", "json", "cluster", "--status", "--file", path)
        status = json.loads(out)
        assert code == 1 and [s["name"] for s in status["not_in_file"]] == [f"{pfx}-node3", f"{pfx}-node4"]
        assert status["verdict"] == doc["verdict"]
        code, out, _ = cli("cluster", "--status", "--file", path)
        assert "Not in the file" in out and f"{pfx}-node4" in out

        # --prune destroys exactly those, never node (no pattern) nor another file's VMs.
        code, out, err = cli("--output", "json", "cluster", "--create", "--prune", "--file", path)
        assert code == 0, err
        doc = json.loads(out)
        check(doc, "cluster")
        assert [(p["name"], p["status"]) for p in doc["pruned"]] == [(f"{pfx}-node3", "destroyed"),
                                                                     (f"{pfx}-node4", "destroyed")]
        assert names(session, pfx) == sorted([f"{pfx}-node", f"{pfx}-node1", f"{pfx}-node2"])
        assert cli("cluster", "--status", "--file", path)[0] == 0
    finally:
        write(path, pfx, 4, f"{pfx}-node: B host: vhpc-esx-05.hpc.vmware.com power: off\n")
        cli("cluster", "--destroy", "--file", path)
    assert names(session, pfx) == []


def test_a_name_never_matches_by_prefix(cli, session, tmp_path):
    pfx = f"p{uuid.uuid4().hex[:5]}"
    path = tmp_path / "c.conf"
    other = tmp_path / "other.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\nhost: vhpc-esx-05.hpc.vmware.com\n[_VMS_]\n{pfx}1: B power: off\n")
    other.write_text(f"[B]\ntemplate: vhpc_clone\nhost: vhpc-esx-05.hpc.vmware.com\n[_VMS_]\n"
                     f"{pfx}10: B power: off\n{pfx}1x: B power: off\n")
    try:
        assert cli("cluster", "--create", "--file", other)[0] == 0
        code, out, err = cli("--output", "json", "cluster", "--create", "--prune", "--file", path)
        assert code == 0 and json.loads(out)["pruned"] == [], err
        assert names(session, pfx) == sorted([f"{pfx}1", f"{pfx}10", f"{pfx}1x"])
    finally:
        cli("cluster", "--destroy", "--file", path)
        cli("cluster", "--destroy", "--file", other)


def test_status_exports_every_kind(cli, tmp_path):
    pfx = f"e{uuid.uuid4().hex[:5]}"
    path = tmp_path / "c.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\ncpu: 4\nmemory: 8\nhost: vhpc-esx-05.hpc.vmware.com\n"
                    f"[GPU]\ndevice: ['0000:d8:00.0']\nmemory_reservation: yes\n"
                    f"[_VMS_]\n{pfx}-gpu: B GPU\n{pfx}-cpu: B power: off\n"
                    f"{pfx}-vgpu: B vgpu: grid_v100-8q memory_reservation: yes\n")
    out_files = {k: tmp_path / f"x.{k}" for k in ("hostfile", "mpich", "ansible", "slurm", "json")}
    try:
        assert cli("cluster", "--create", "--file", path)[0] == 0
        argv = [a for k, p in out_files.items() for a in ("--export", f"{k}={p}")]
        code, out, err = cli("cluster", "--status", "--file", path, *argv)
        assert code == 0, err
        hostfile = out_files["hostfile"].read_text()
        assert re.search(r"^\d+\.\d+\.\d+\.\d+ slots=4  # " + f"{pfx}-gpu$", hostfile, re.M)
        assert f"# {pfx}-cpu: no IP yet" in hostfile
        assert re.search(r"^\d+\.\d+\.\d+\.\d+:4  # ", out_files["mpich"].read_text(), re.M)
        top = yaml.safe_load(out_files["ansible"].read_text())["all"]["children"][path.stem]
        inv = top["children"]
        assert inv[f"{path.stem}_gpu"]["hosts"] == {f"{pfx}-gpu": {}} and sorted(inv[f"{path.stem}_B"]["hosts"]) == \
            sorted([f"{pfx}-gpu", f"{pfx}-cpu", f"{pfx}-vgpu"])
        assert top["hosts"][f"{pfx}-gpu"]["vhpc_gpus"] == 1 and inv[f"{path.stem}_vgpu"]["hosts"] == {f"{pfx}-vgpu": {}}
        slurm = out_files["slurm"].read_text()
        size = "CPUs=4 Sockets=4 CoresPerSocket=1 ThreadsPerCore=1 RealMemory=7782"   # the same lines as slurm config
        assert re.search(rf"^NodeName={pfx}-gpu NodeAddr=\S+ {size} Gres=gpu:1 State=UNKNOWN$", slurm, re.M)
        assert f"NodeName={pfx}-gpu Name=gpu File=/dev/nvidia0" in (tmp_path / "x.slurm.gres.conf").read_text()
        assert re.search(rf"^NodeName={pfx}-vgpu NodeAddr=\S+ {size} Gres=gpu:v100-8q:1 ", slurm, re.M)
        assert re.search(rf"^NodeName={pfx}-cpu {size} State=UNKNOWN  # no IP yet", slurm, re.M)
        check(json.loads(out_files["json"].read_text()), "status")
    finally:
        cli("cluster", "--destroy", "--file", path)


def _edit_rule(session, name, keep=None):
    """Change the group's rule on vCenter by hand: list only ``keep`` VMs, or remove it (keep None)."""
    from pyVmomi import vim

    from vhpc_toolkit.vsphere.tasks import wait_for_task

    inv = read_inventory(session, {"ClusterComputeResource": ["configurationEx"], "VirtualMachine": []})
    cluster, rule = next((c, r) for c in inv.of_type("ClusterComputeResource")
                         for r in getattr(c.get("configurationEx"), "rule", None) or [] if r.name == name)
    if keep is None:
        spec = vim.cluster.RuleSpec(operation="remove", removeKey=rule.key)
    else:
        rule.vm = [v for v in rule.vm if inv.by_ref(v).name in keep]
        spec = vim.cluster.RuleSpec(operation="edit", info=rule)
    wait_for_task(session, cluster.ref.ReconfigureComputeResource_Task(
        spec=vim.cluster.ConfigSpecEx(rulesSpec=[spec]), modify=True))


def test_status_reports_the_drs_rule_of_an_anti_affinity_group(cli, session, tmp_path):
    pfx = f"r{uuid.uuid4().hex[:5]}"
    group = f"{pfx}-apart"
    path = tmp_path / "c.conf"
    path.write_text(f"[B]\ntemplate: vhpc_clone\ncpu: 2\nmemory: 4\n[_VMS_]\n"
                    f"{pfx}-node{{1:3}}: B host: vhpc-esx-0{{5:7}}.hpc.vmware.com anti_affinity: {group} power: off\n")

    def status(code_wanted):
        code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
        assert code == code_wanted, err
        doc = json.loads(out)
        check(doc, "status")
        return doc

    try:
        assert cli("cluster", "--create", "--file", path)[0] == 0
        doc = status(0)
        assert doc["rules"] == [{"name": group, "cluster": "COMPUTE_GPU_Cluster", "status": "up to date",
                                 "detail": "3 VMs on different hosts"}]

        _edit_rule(session, group, keep={f"{pfx}-node1", f"{pfx}-node2"})      # someone drops a VM from it
        (rule,) = status(1)["rules"]
        assert rule["status"] == "incomplete" and f"{pfx}-node3" in rule["detail"]
        code, out, _ = cli("cluster", "--status", "--file", path)
        assert code == 1 and "DRS rules" in out and "1 DRS rule differs" in out

        _edit_rule(session, group)                                              # or removes it
        (rule,) = status(1)["rules"]
        assert rule["status"] == "absent"

        assert cli("cluster", "--create", "--file", path)[0] == 0               # create puts it back
        assert status(0)["rules"][0]["status"] == "up to date"
    finally:
        cli("cluster", "--destroy", "--file", path)


def test_prune_destroys_only_what_the_file_made_in_its_folder(cli, session, tmp_path):
    """Strays are the file's own: VMs of its naming pattern in its folder. One made by hand there is
    listed but left; one in another folder or carrying another file's mark is not the file's at all."""
    from tests.integration.test_destroy_safety import clone_into, make_folder

    pfx = f"q{uuid.uuid4().hex[:5]}"
    path = tmp_path / "c.conf"
    write(path, pfx, 4)
    inv = read_inventory(session, {"Datacenter": ["vmFolder"]})
    root = inv.find("Datacenter", "HPC_Datacenter").get("vmFolder")
    elsewhere = make_folder(session, f"{pfx}-elsewhere")
    made = [clone_into(session, root, f"{pfx}-node5"),                                  # by hand, in the folder
            clone_into(session, elsewhere, f"{pfx}-node6"),                             # another folder
            clone_into(session, root, f"{pfx}-node7", owner="elsewhere:/other.conf")]   # another file's
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 1 and [s["name"] for s in json.loads(out)["not_in_file"]] == [f"{pfx}-node5"], err
        write(path, pfx, 2)                                                             # shrink: node3, node4 out
        code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
        assert code == 1, err
        listed = {s["name"]: s["detail"] for s in json.loads(out)["not_in_file"]}
        assert sorted(listed) == [f"{pfx}-node3", f"{pfx}-node4", f"{pfx}-node5"]
        assert "--prune leaves it" in listed[f"{pfx}-node5"] and listed[f"{pfx}-node3"] == ""

        code, out, err = cli("--output", "json", "cluster", "--create", "--prune", "--file", path)
        doc = json.loads(out)
        assert code == 1 and [s["name"] for s in doc["not_in_file"]] == [f"{pfx}-node5"], err   # made by hand: left
        pruned = {p["name"]: p["status"] for p in doc["pruned"]}
        assert pruned == {f"{pfx}-node3": "destroyed", f"{pfx}-node4": "destroyed", f"{pfx}-node5": "not in the file"}
        assert cli("cluster", "--status", "--file", path)[0] == 1
        assert names(session, pfx) == sorted(f"{pfx}-node{i}" for i in (1, 2, 5, 6, 7))
    finally:
        cli("cluster", "--destroy", "--file", path)
        for vm in made:
            wait_for_task(session, vm.Destroy_Task())
        wait_for_task(session, elsewhere.Destroy_Task())
