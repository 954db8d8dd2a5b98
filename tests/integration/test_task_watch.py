"""run_jobs follows the tasks in flight through one ListView (vsphere/tasks.py TaskWatcher).

A filter per batch made the collector watch every task ever started; the view holds the tasks in
flight: one CreateFilter per run, one ModifyListView per later batch (adding the new tasks and
dropping those that ended), counted by the lab.
"""
from __future__ import annotations

import uuid

import pytest
from pyVmomi import vim

from vhpc_toolkit.results import CHANGED, TargetResult
from vhpc_toolkit.ops.runner import Job, run_jobs
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_tasks

pytestmark = pytest.mark.lab


@pytest.fixture
def vms(session):
    inv = read_inventory(session, {"VirtualMachine": [], "ClusterComputeResource": ["resourcePool"],
                                    "Datacenter": ["vmFolder"]})
    tmpl = inv.find("VirtualMachine", "vhpc_clone").ref
    pool = inv.find("ClusterComputeResource", "COMPUTE_GPU_Cluster").get("resourcePool")
    folder = inv.find("Datacenter", "HPC_Datacenter").get("vmFolder")
    tasks = [tmpl.CloneVM_Task(folder=folder, name=f"watch-{uuid.uuid4().hex[:8]}",
                               spec=vim.vm.CloneSpec(location=vim.vm.RelocateSpec(pool=pool)))
             for _ in range(3)]
    made = [o.result for o in wait_for_tasks(session, tasks).values() if o.ok]
    assert len(made) == 3
    yield made
    wait_for_tasks(session, [vm.Destroy_Task() for vm in made])


def test_run_jobs_watches_tasks_in_flight_through_one_view(lab, session, vms):
    jobs = [Job(result=TargetResult(f"job{i}"), key=vms[i % 3]._moId,
                start=lambda vm=vms[i % 3], i=i: vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(annotation=f"watch {i}")))
            for i in range(30)]
    lab.reset_calls()
    run_jobs(session, jobs, concurrency=4, per_key=1)  # one at a time per VM: 3 in flight
    calls = lab.calls()["methods"]
    assert [j.result.status for j in jobs] == [CHANGED] * 30, [j.result.detail for j in jobs]
    assert calls["ReconfigVM_Task"] == 30
    # One view and one filter for the whole run, whatever the number of batches.
    assert calls.get("CreatePropertyCollector") == 1 and calls.get("CreateListView") == 1
    assert calls.get("CreateFilter") == 1, calls
    batches = 1 + calls.get("ModifyListView", 0)
    assert batches >= 30 // 3, calls
    # Freed by the session's logout (vCenter frees what a session made), not one call each.
    assert "DestroyView" not in calls and "DestroyPropertyCollector" not in calls
    assert {m for _, m, _ in session.held[-2:]} == {"DestroyView", "DestroyPropertyCollector"}
    # The last job of each VM set its annotation.
    inv = read_inventory(session, {"VirtualMachine": ["config.annotation"]})
    got = {inv.by_ref(vm).get("config.annotation") for vm in vms}
    assert got == {"watch 27", "watch 28", "watch 29"}
