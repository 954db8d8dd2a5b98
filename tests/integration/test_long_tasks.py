"""Long tasks, as full clones on real storage are: a lab whose clones run 30 s (--clone-time).

Each task has its own limit (--task-timeout): past it, the task is cancelled and its VM
reported failed, the others go on. A job still queued when the run stops is reported as
"not started", never left out or shown as done.
"""
from __future__ import annotations

import json

import pytest

from tests.plugins.lab import start_lab, stop_lab
from vhpc_toolkit.vsphere.inventory import read_inventory


@pytest.fixture(scope="module")
def slow_lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("slow-lab"), "--clone-time", "30s")
    yield lab
    stop_lab(lab)


@pytest.fixture
def slow_cli(slow_lab, run_cli):
    return lambda *argv: run_cli("--vcenter-conf", slow_lab.conf, "--yes", *argv)


def vm_names(lab):
    s = lab.connect()
    try:
        return {o.name for o in read_inventory(s, {"VirtualMachine": []}).of_type("VirtualMachine")}
    finally:
        s.close()


def test_each_task_has_its_own_timeout_and_is_cancelled_past_it(slow_cli, slow_lab, tmp_path):
    listing = tmp_path / "vms.txt"
    listing.write_text("slow-a\nslow-b\n")
    slow_lab.reset_calls()
    code, out, err = slow_cli("--output", "json", "clone", "--template", "vhpc_clone", "--file", listing,
                              "--task-timeout", "1")
    assert code == 1, err
    rows = {r["vm"]: r for r in json.loads(out)["results"]}
    for name in ("slow-a", "slow-b"):
        assert rows[name]["status"] == "failed"
        assert "timed out after 1s (--task-timeout); cancel requested" in rows[name]["detail"]
    assert slow_lab.calls()["methods"].get("CancelTask") == 2
    assert not {"slow-a", "slow-b"} & vm_names(slow_lab)       # cancelled: no VM


def test_cluster_create_takes_task_timeout(slow_cli, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[_VMS_]\nslow-c{1:2}: template: vhpc_clone host: vhpc-esx-02.hpc.vmware.com\n")
    code, out, err = slow_cli("--output", "json", "cluster", "--create", "--file", conf, "--task-timeout", "1")
    assert code == 1
    assert {v["status"] for v in json.loads(out)["vms"]} == {"failed"}
    assert all("--task-timeout" in v["detail"] for v in json.loads(out)["vms"])


def test_jobs_still_queued_when_the_run_stops_are_not_started(slow_cli, slow_lab, tmp_path, monkeypatch):
    from vhpc_toolkit.vsphere import tasks as tasks_mod

    listing = tmp_path / "many.txt"
    names = [f"queued-{i}" for i in range(10)]
    listing.write_text("\n".join(names) + "\n")

    def ctrl_c(self, max_wait, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(tasks_mod.TaskWatcher, "wait", ctrl_c)
    # One host: 8 clones in flight (the per-host limit), 2 queued, when Ctrl-C comes.
    code, out, err = slow_cli("--output", "json", "clone", "--template", "vhpc_clone", "--file", listing,
                              "--host", "vhpc-esx-03.hpc.vmware.com")
    monkeypatch.undo()
    assert code == 130
    doc = json.loads(out)
    status = [r["status"] for r in doc["results"]]
    assert sorted(r["vm"] for r in doc["results"]) == sorted(names)
    assert status.count("failed") == 8 and status.count("not started") == 2
    assert all("cancel requested" in r["detail"] for r in doc["results"] if r["status"] == "failed")
    assert "2 not started" in doc["summary"]
    assert not set(names) & vm_names(slow_lab)
