"""cluster --create under vCenter's admission limits, on a lab whose full clones take a second
(`admission_lab`): the plan's copies of the template as extra sources (marked, reused, destroyed or
kept), timeouts counted from a task's start (a task queued in vCenter is not late), the queued
count for the progress display. Read back with pyVmomi; no timing is asserted, only what ran where.
"""
from __future__ import annotations

import json
import uuid

import pytest

from vhpc_toolkit.cluster.ownership.owner import OWNER_KEY
from vhpc_toolkit.cluster.cloning.copies import COPY_KEY
from vhpc_toolkit.vsphere.inventory import read_inventory

TEMPLATE_HOST = "vhpc-esx-01.hpc.vmware.com"
FILE = """[BASE]
template: vhpc_clone
cpu: 1
memory: 1
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
power: off

[_VMS_]
PFX-{{1:{n}}}: BASE host: vhpc-esx-0{{{hosts}}}.hpc.vmware.com
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Clone times measured here stay in the test's cache, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def acli(admission_lab, run_cli):
    return lambda *argv, conf=None: run_cli("--vcenter-conf", conf or admission_lab.conf, "--yes", *argv)


@pytest.fixture
def cluster(tmp_path, acli):
    made = []

    def write(n: int, hosts: str) -> tuple:
        pfx = f"a{uuid.uuid4().hex[:6]}"
        path = tmp_path / f"{pfx}.conf"
        path.write_text(FILE.format(n=n, hosts=hosts).replace("PFX", pfx))
        made.append(path)
        return path, pfx

    yield write
    for path in made:
        acli("cluster", "--destroy", "--file", path)


def vms(lab, prefix: str) -> dict:
    s = lab.connect()
    try:
        inv = read_inventory(s, {"VirtualMachine": ["config.extraConfig", "config.template", "runtime.host"],
                                 "HostSystem": []})
        hosts = {h.moid: h.name for h in inv.of_type("HostSystem")}
        return {o.name: {"extra": {x.key: x.value for x in o.get("config.extraConfig") or []},
                         "template": o.get("config.template"), "host": hosts[o.get("runtime.host")._moId]}
                for o in inv.of_type("VirtualMachine") if o.name.startswith(prefix)}
    finally:
        s.close()


def destroy_vms(lab, names) -> None:
    """Destroy the VMs (or templates) of those names that are still there."""
    from vhpc_toolkit.vsphere.tasks import wait_for_tasks

    s = lab.connect()
    try:
        left = [o.ref for o in read_inventory(s, {"VirtualMachine": []}).of_type("VirtualMachine") if o.name in names]
        if left:
            wait_for_tasks(s, [ref.Destroy_Task() for ref in left])
    finally:
        s.close()


def test_copies_of_the_template_serve_as_sources_and_stay_for_the_next_run(acli, cluster, admission_lab):
    # 32 VMs on 4 hosts: from the template alone 4 rounds (8 at a time); with copies of the template
    # on some hosts (1 round) that then clone 4 at a time from their own copy while the template serves
    # the others: 3.
    path, pfx = cluster(32, "2:5")
    admission_lab.admission(reset=True)
    admission_lab.reset_calls()
    code, out, err = acli("--output", "json", "cluster", "--create", "--file", path)
    assert code == 0, err
    doc = json.loads(out)
    cloning = doc["cloning"]
    named = {c["name"] for c in cloning["copies"]}   # this run's copies: removed below even if a check fails
    try:
        assert (cloning["rounds"], cloning["rounds_from_template"]) == (3, 4)
        with_copy = {c["host"] for c in cloning["copies"]}
        assert with_copy and {c["status"] for c in cloning["copies"]} == {"changed"}
        assert admission_lab.calls()["methods"]["CloneVM_Task"] == 32 + len(with_copy)
        # a host with a copy got it and cloned its 8 VMs from it; the others got theirs from the template
        hosts = admission_lab.admission()["hosts"]
        for i in range(2, 6):
            name = f"vhpc-esx-0{i}.hpc.vmware.com"
            assert hosts[name]["operations"] == (1 + 8 if name in with_copy else 8), (name, hosts)
        assert hosts[TEMPLATE_HOST]["operations"] == len(with_copy) + 8 * (4 - len(with_copy))

        copies = vms(admission_lab, "vhpc_clone-copy-")
        mine = {c["name"]: copies[c["name"]] for c in cloning["copies"]}
        owner = next(iter(mine.values()))["extra"][OWNER_KEY]
        assert all(c["template"] and c["extra"][OWNER_KEY] == owner and c["extra"][COPY_KEY] for c in mine.values())
        made = vms(admission_lab, pfx)
        assert len(made) == 32 and all(v["extra"].get(OWNER_KEY) == owner and COPY_KEY not in v["extra"]
                                       for v in made.values())

        # destroyed with the copies kept: the next create reuses them
        code, out, err = acli("--output", "json", "cluster", "--destroy", "--keep-template-copies", "--file", path)
        assert code == 0 and f"kept {len(mine)} copies of the template" in out, out
        assert set(mine) <= set(vms(admission_lab, "vhpc_clone-copy-"))
        admission_lab.admission(reset=True)
        code, out, err = acli("--output", "json", "cluster", "--create", "--file", path)
        cloning = json.loads(out)["cloning"]
        named |= {c["name"] for c in cloning["copies"]}
        assert code == 0 and sorted(cloning["reused"]) == sorted(mine) and cloning["rounds"] <= 3
        # measured by the first run: the plan now estimates (clone time about a second)
        assert cloning["estimated_seconds"] is not None and "measured" in cloning["clone_time_source"]

        # destroyed for good: the copies go with the VMs
        code, out, err = acli("--output", "json", "cluster", "--destroy", "--file", path)
        assert code == 0
        assert not set(mine) & set(vms(admission_lab, "vhpc_clone-copy-")) and not vms(admission_lab, pfx)
    finally:   # a check failing mid-test would leave them (kept, or made before the last destroy)
        destroy_vms(admission_lab, named & set(vms(admission_lab, "vhpc_clone-copy-")))


def test_a_task_queued_by_vcenter_is_not_late(acli, cluster, admission_lab, tmp_path):
    """A toolkit told that hosts have 64 units submits 24 clones of one template at once; vCenter
    (the lab, 16 units) runs 8 and queues 16 for up to 2 clone times. Each task's 2 s limit counts from
    its start: none times out, though the last ones end 3 s after their submission."""
    conf = tmp_path / "vCenter.conf"
    conf.write_text(admission_lab.conf.read_text() + "host_units: 64\n")
    path, pfx = cluster(24, "2:4")
    admission_lab.admission(reset=True)
    code, out, err = acli("--output", "json", "cluster", "--create", "--file", path, "--task-timeout", "2", conf=conf)
    assert code == 0, out + err
    assert {v["status"] for v in json.loads(out)["vms"]} == {"created"}
    rep = admission_lab.admission()
    assert rep["waited"] == 16 and rep["max_queued_seconds"] >= 1.5, rep


def test_the_run_reports_queued_tasks_for_the_progress(admission_lab, cluster, tmp_path):
    """apply_plan hands the progress display how many tasks wait in vCenter's queue."""
    from vhpc_toolkit.cluster.applying.apply import ApplyOptions, apply_plan
    from vhpc_toolkit.cluster.planning.prepare import prepare_create
    from vhpc_toolkit.clusterfile import parse_cluster_file
    from vhpc_toolkit.settings.admission import AdmissionModel

    path, pfx = cluster(12, "2:3")
    session = admission_lab.connect()
    try:
        session.admission = AdmissionModel(host_units=64)    # the toolkit thinks more fits than vCenter runs
        prepared = prepare_create(session, parse_cluster_file(path))
        seen = []
        result = apply_plan(session, prepared.plan, ApplyOptions(), prepared.offers, on_states=seen.append)
    finally:
        session.close()
    assert not result.failed
    assert max(s.queued for s in seen) >= 1 and max(s.running for s in seen) >= 1
    assert (seen[-1].waiting, seen[-1].queued) == (0, 0)


def test_max_per_host_counts_both_sides_of_a_clone(acli, cluster, admission_lab):
    """--max-per-host 2: at most 2 clones touch the template's host at once (vCenter would run 8)."""
    path, pfx = cluster(4, "2:3")
    admission_lab.admission(reset=True)
    code, out, err = acli("--output", "json", "cluster", "--create", "--file", path, "--max-per-host", "2")
    assert code == 0, err
    rep = admission_lab.admission()
    assert rep["peak_running"] == 2 and rep["hosts"][TEMPLATE_HOST]["peak"] == 4 and rep["waited"] == 0


def test_rollback_removes_the_copies_the_run_made(acli, cluster, admission_lab):
    path, pfx = cluster(32, "2:5")
    admission_lab.set_faults(fail_method=[{"method": "CloneVM_Task", "regex": f"^{pfx}-32$", "fault": "SystemError"}])
    try:
        code, out, err = acli("--output", "json", "cluster", "--create", "--rollback", "--file", path)
    finally:
        admission_lab.set_faults()
    doc = json.loads(out)
    made = [c["name"] for c in doc["cloning"]["copies"] if c["status"] == "changed"]
    assert code == 1 and made and any("copies of the template this run made" in n for n in doc["notes"]), doc["notes"]
    assert not set(made) & set(vms(admission_lab, "vhpc_clone-copy-")) and not vms(admission_lab, pfx)
