"""A cluster has a name: the same file (a copy, an edited copy) manages the same cluster from any folder or
machine; an earlier version's marks are taken over by a run of that path; `cluster --list` and `--adopt`;
read back with pyVmomi."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import jsonschema
from pyVmomi import vim

from tests.integration.test_cluster import BASE
from vhpc_toolkit.marks import OWNER_KEY, dvs_mark, legacy_mark, svs_mark, vm_mark
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

H2, H3, H4 = (f"vhpc-esx-0{i}.hpc.vmware.com" for i in (2, 3, 4))
DVS = ("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def state(session, pfx):
    """What vCenter holds of a cluster of prefix ``pfx``: VM marks, DVS marks, standard switches (and
    their mark port groups) per host, custom attribute names."""
    inv = read_inventory(session, {"VirtualMachine": ["config.extraConfig"],
                                   "DistributedVirtualSwitch": ["config.description", "customValue"],
                                   "HostSystem": ["config.network.vswitch", "config.network.portgroup", "customValue"]})
    vms = {o.name: {x.key: x.value for x in o.get("config.extraConfig") or []}.get(OWNER_KEY)
           for o in inv.of_type("VirtualMachine") if o.name.startswith(pfx)}
    dvs = {o.name: o.get("config.description") for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
           if o.name.startswith(pfx)}
    svs = {h.name: sorted(p.spec.name for p in h.get("config.network.portgroup") or []
                          if p.spec.vswitchName.startswith(pfx))
           for h in inv.of_type("HostSystem") if any(v.name.startswith(pfx) for v in h.get("config.network.vswitch") or [])}
    fields = {f.name: f.key for f in session.content.customFieldsManager.field}
    return vms, dvs, svs, fields


FILE = BASE + """
[_CLUSTER_]
name: PFX-hpc

[_SVS_]
PFX-sw: host: vhpc-esx-0{2:3}.hpc.vmware.com pnic: vmnic4 port_group: PFX-pg

[_DVS_]
PFX-dvs: host: vhpc-esx-04.hpc.vmware.com pnic: vmnic5 port_group: PFX-dpg

[_VMS_]
PFX-{1:2}: BASE host: vhpc-esx-02.hpc.vmware.com power: off
"""


def test_a_copy_elsewhere_manages_the_same_cluster(cli, cluster_file, session, lab, tmp_path, monkeypatch):
    path, pfx = cluster_file(FILE)
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0, err
    name = f"{pfx}-hpc"
    vms, dvs, svs, _ = state(session, pfx)
    assert vms == {f"{pfx}-1": vm_mark(name), f"{pfx}-2": vm_mark(name)}
    assert dvs_mark(dvs[f"{pfx}-dvs"]).cluster == name
    assert svs == {H2: [f"{pfx}-pg", svs_mark(name, f"{pfx}-sw")], H3: [f"{pfx}-pg", svs_mark(name, f"{pfx}-sw")]}

    # A copy in another folder, under another file name, run from another machine: the same cluster.
    copy = tmp_path / "elsewhere" / "renamed-copy.conf"
    copy.parent.mkdir()
    copy.write_text(path.read_text() + "# an edit that changes nothing\n")
    monkeypatch.setattr(socket, "gethostname", lambda: "another-workstation")
    lab.reset_calls()
    code, out, err = cli("--output", "json", "cluster", "--create", "--file", copy)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["up_to_date"] is True and not any("belongs to" in n for n in doc["notes"])
    calls = lab.calls()["methods"]
    assert not {"CloneVM_Task", "Destroy_Task", "ReconfigVM_Task", "AddPortGroup", "CreateDVS_Task"} & set(calls)
    code, out, _ = cli("cluster", "--status", "--file", copy)
    assert code == 0 and f"Cluster {name}" in out and str(copy) not in out, out    # named by its name, not a path
    code, out, _ = cli("cluster", "--create", "--file", copy)
    assert code == 0 and f"cluster {name}: up to date (" in out, out
    assert state(session, pfx)[:3] == (vms, dvs, svs)

    # The copy destroys what the original made: nothing is left.
    code, out, err = cli("--output", "json", "cluster", "--destroy", "--file", copy)
    assert code == 0, err
    vms, dvs, svs, fields = state(session, pfx)
    assert vms == {} and dvs == {} and svs == {}
    assert f"vhpc_toolkit.run {name}" not in fields and f"vhpc_toolkit.lock {name}" not in fields


def legacy_vm(session, name, owner, host=H3):
    inv = read_inventory(session, {"VirtualMachine": [], "Datacenter": ["vmFolder"], "HostSystem": [],
                                   "ClusterComputeResource": ["resourcePool"]})
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(
        pool=inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool"),
        host=inv.find("HostSystem", host).ref),
        config=vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=OWNER_KEY, value=owner)]))
    return wait_for_task(session, inv.find("VirtualMachine", "vhpc_clone").ref.CloneVM_Task(
        folder=inv.of_type("Datacenter")[0].get("vmFolder"), name=name, spec=spec))


def legacy_value(session, field, entity, value) -> int:
    """What an earlier version wrote: a global custom attribute and its value on ``entity``; the attribute's key."""
    cfm = session.content.customFieldsManager
    key = next((f.key for f in cfm.field if f.name == field), None)
    if key is None:
        key = cfm.AddCustomFieldDef(name=field).key
    cfm.SetField(entity=entity, key=key, value=value)
    return key


def test_an_earlier_versions_marks_are_taken_over_by_the_same_path(cli, cluster_file, session, tmp_path):
    path, pfx = cluster_file(BASE + """
[_SVS_]
PFX-sw: host: vhpc-esx-03.hpc.vmware.com pnic: vmnic4 port_group: PFX-pg
[_DVS_]
PFX-dvs: host: vhpc-esx-04.hpc.vmware.com pnic: vmnic5 port_group: PFX-dpg
[_VMS_]
PFX-{1:2}: BASE host: vhpc-esx-03.hpc.vmware.com power: off
""")
    old = legacy_mark(str(path))
    # What the previous version left: two VMs, a distributed and a standard switch, marked HOST:/path.
    for i in (1, 2):
        legacy_vm(session, f"{pfx}-{i}", old)
    assert cli("svs", "--create", "--host", H3, "--name", f"{pfx}-sw", "--pnic", "vmnic4", "--port_group", f"{pfx}-pg")[0] == 0
    assert cli("dvs", "--create", "--name", f"{pfx}-dvs", "--host", H4, "--pnic", "vmnic5", "--port_group", f"{pfx}-dpg")[0] == 0
    inv = read_inventory(session, {"HostSystem": [], "DistributedVirtualSwitch": []})
    legacy_value(session, f"vhpc_toolkit.svs:{pfx}-sw", inv.find("HostSystem", H3).ref, old)
    owner_key = legacy_value(session, "vhpc_toolkit.owner", inv.find(DVS, f"{pfx}-dvs").ref, old)

    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0, err + out
    said = f"2 VMs and 2 switches marked by an earlier version as {old} are now cluster {pfx}'s"
    assert " ".join(out.split()).count(said) == 1, out    # named once (however the console wraps it), no question
    vms, dvs, svs, fields = state(session, pfx)
    assert vms == {f"{pfx}-1": vm_mark(pfx), f"{pfx}-2": vm_mark(pfx)}
    assert dvs_mark(dvs[f"{pfx}-dvs"]).cluster == pfx
    assert svs == {H3: [f"{pfx}-pg", svs_mark(pfx, f"{pfx}-sw")]}
    assert f"vhpc_toolkit.svs:{pfx}-sw" not in fields    # no host carries it: the attribute is gone
    dvs_obj = read_inventory(session, {"DistributedVirtualSwitch": ["customValue"]}).find(DVS, f"{pfx}-dvs")
    assert not [v for v in dvs_obj.get("customValue") or [] if v.key == owner_key and v.value]
    assert "vhpc_toolkit.owner" not in fields    # its values cleared, the earlier version's attribute is gone too

    code, out, _ = cli("cluster", "--create", "--file", path)     # taken over once: a re-run says nothing
    assert code == 0 and "earlier version" not in out and ": up to date (" in out
    copy = tmp_path / "moved" / path.name                          # and a copy elsewhere is the same cluster
    copy.parent.mkdir()
    copy.write_text(path.read_text())
    code, out, _ = cli("cluster", "--create", "--file", copy)
    assert code == 0 and ": up to date (" in out, out


def list_doc(cli):
    code, out, err = cli("--output", "json", "cluster", "--list")
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "cluster-list.json").read_text())).validate(doc)
    return {c["name"]: c for c in doc["clusters"]}


def test_list_shows_every_cluster_from_one_read(cli, cluster_file, session, lab):
    path_a, pfx = cluster_file(BASE + """
[_SVS_]
PFX-sw: host: vhpc-esx-03.hpc.vmware.com pnic: vmnic4 port_group: PFX-pg
[_VMS_]
PFX-a{1:2}: BASE host: vhpc-esx-03.hpc.vmware.com power: off
""", name="a.conf")
    path_b, _ = cluster_file(BASE + """
[_CLUSTER_]
name: PFX-b
[_DVS_]
PFX-dvs: host: vhpc-esx-04.hpc.vmware.com pnic: vmnic5 port_group: PFX-dpg
[_VMS_]
PFX-b1: BASE host: vhpc-esx-04.hpc.vmware.com power: off
""", name="b.conf", pfx=pfx)
    assert cli("cluster", "--create", "--file", path_a)[0] == 0 and cli("cluster", "--create", "--file", path_b)[0] == 0
    old = legacy_vm(session, f"{pfx}-old", "ws9:/home/ann/old-cluster.conf")
    try:
        lab.reset_calls()
        found = list_doc(cli)
        calls = lab.calls()["methods"]
        assert calls.get("RetrievePropertiesEx") == 1 and calls.get("CreateContainerView") == 1, calls
        a, b = found["a"], found[f"{pfx}-b"]
        assert (a["vms"], a["switches"], a["datacenters"], a["folders"]) == \
            (2, [{"name": f"{pfx}-sw", "kind": "svs"}], ["HPC_Datacenter"], ["/HPC_Datacenter/vm"])
        assert (b["vms"], b["switches"]) == (1, [{"name": f"{pfx}-dvs", "kind": "dvs"}])
        run = b["last_run"]
        assert run["path"] == str(path_b.resolve()) and run["machine"] == socket.gethostname()
        assert run["action"] == "create" and run["time"].endswith("Z") and not a["legacy"]
        legacy = found["old-cluster"]
        assert legacy["legacy"] and legacy["vms"] >= 1 and legacy["last_run"]["machine"] == "ws9"
        code, out, _ = cli("cluster", "--list")
        assert code == 0 and f"{pfx}-b" in out and "old-cluster" in out and "earlier version" in out
    finally:
        wait_for_task(session, old.Destroy_Task())
    assert cli("cluster", "--destroy", "--file", path_b)[0] == 0
    found = list_doc(cli)
    assert f"{pfx}-b" not in found and "a" in found      # gone with its last VM and switch, record and all


def test_adopt_after_a_rename(cli, cluster_file, session, run_cli, lab, monkeypatch):
    path, pfx = cluster_file(FILE)
    assert cli("cluster", "--create", "--file", path)[0] == 0
    other = legacy_vm(session, f"{pfx}-3", vm_mark("someone-else"))   # the pattern, another cluster's: never adopted
    try:
        path.write_text(path.read_text().replace(f"name: {pfx}-hpc", f"name: {pfx}-new"))
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and f"belongs to cluster {pfx}-hpc (in /HPC_Datacenter/vm), not to cluster {pfx}-new" in err
        assert err.count("belongs to") == 1 and f"{pfx}-1, {pfx}-2" in err and "--adopt" in err, err   # said once
        # Off a terminal without --yes: refused before any login; on a terminal a "no" changes nothing.
        lab.reset_calls()
        code, _, err = run_cli("--vcenter-conf", lab.conf, "cluster", "--adopt", "--file", path)
        assert code == 2 and "--yes" in err and lab.calls()["total"] == 0
        from rich.prompt import Confirm

        monkeypatch.setattr("sys.stdin.isatty", lambda: True)
        monkeypatch.setattr(Confirm, "ask", classmethod(lambda cls, *a, **k: False))
        code, out, err = run_cli("--vcenter-conf", lab.conf, "cluster", "--adopt", "--file", path)
        assert code == 1 and "nothing was changed" in err and f"cluster {pfx}-hpc" in out
        assert state(session, pfx)[0][f"{pfx}-1"] == vm_mark(f"{pfx}-hpc")

        code, out, err = cli("--output", "json", "cluster", "--adopt", "--file", path)
        assert code == 0, err
        rows = {r.get("vm") or r.get("switch"): r for r in json.loads(out)["results"]}
        assert set(rows) == {f"{pfx}-1", f"{pfx}-2", f"{pfx}-sw", f"{pfx}-dvs"}
        assert rows[f"{pfx}-1"]["changes"] == [{"field": "owner", "old": f"cluster {pfx}-hpc", "new": f"cluster {pfx}-new"}]
        vms, dvs, svs, _ = state(session, pfx)
        assert vms == {f"{pfx}-1": vm_mark(f"{pfx}-new"), f"{pfx}-2": vm_mark(f"{pfx}-new"), f"{pfx}-3": vm_mark("someone-else")}
        assert dvs_mark(dvs[f"{pfx}-dvs"]).cluster == f"{pfx}-new"
        assert svs == {h: [f"{pfx}-pg", svs_mark(f"{pfx}-new", f"{pfx}-sw")] for h in (H2, H3)}   # the old mark gone
        code, out, _ = cli("cluster", "--create", "--file", path)
        assert code == 0 and ": up to date (" in out
        code, out, _ = cli("--output", "json", "cluster", "--adopt", "--file", path)   # nothing left to adopt
        assert code == 0 and json.loads(out)["results"] == []
        code, out, _ = cli("cluster", "--adopt", "--file", path)
        assert code == 0 and f"nothing to adopt: every VM and switch of the file is cluster {pfx}-new's" in out
        found = list_doc(cli)
        assert found[f"{pfx}-new"]["vms"] == 2 and found[f"{pfx}-new"]["last_run"]["action"] in ("create", "adopt")
        assert f"{pfx}-hpc" not in found
    finally:
        wait_for_task(session, other.Destroy_Task())


def test_a_plain_clone_of_a_clusters_vm_is_not_the_clusters(cli, cluster_file, session):
    """vSphere copies the source's extraConfig into a clone: `clone` drops the cluster's owner mark and
    script record, so a VM cloned by hand from a cluster's VM (even with a name of the cluster's pattern,
    in its folder) is never taken for the cluster's own: `--prune` leaves it."""
    path, pfx = cluster_file(BASE + """
[_VMS_]
PFX-{1:2}: BASE host: vhpc-esx-02.hpc.vmware.com power: off
""")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    try:
        code, _, err = cli("clone", "--template", f"{pfx}-1", "--vm", f"{pfx}-3", "--host", H3)
        assert code == 0, err
        vms, _, _, _ = state(session, pfx)
        assert vms[f"{pfx}-1"] and vms.get(f"{pfx}-3") is None, vms
        code, out, err = cli("cluster", "--create", "--prune", "--file", path)
        vms, _, _, _ = state(session, pfx)
        assert f"{pfx}-3" in vms, (out, err)   # made by hand: left
    finally:
        cli("destroy", "--vm", f"{pfx}-3")


def test_destroy_of_a_cluster_removed_by_hand_forgets_its_record(cli, cluster_file, session):
    """The cluster's switch destroyed by hand (svs --destroy): `cluster --list` still has its record;
    `cluster --destroy`, with nothing left to destroy, shows no empty phase and forgets it."""
    path, pfx = cluster_file(f"[_SVS_]\nPFX-sw: host: {H3} pnic: vmnic4 port_group: PFX-pg\n")
    assert cli("cluster", "--create", "--file", path)[0] == 0
    assert cli("svs", "--destroy", "--host", H3, "--name", f"{pfx}-sw")[0] == 0
    code, out, err = cli("cluster", "--status", "--file", path)
    assert code == 1 and "1 switch: 1 absent" in out and pfx in list_doc(cli), out
    code, out, err = cli("cluster", "--destroy", "--file", path)
    assert code == 0 and "started (0)" not in err, err
    assert pfx not in list_doc(cli)
    assert f"vhpc_toolkit.run {pfx}" not in {f.name for f in session.content.customFieldsManager.field}
