"""vCenter's admission of clones in the lab (sim/admission.go), driven with pyVmomi alone: each host
has 16 units, a full clone takes 2 on its source host and 2 on its destination, what does not fit
waits `queued` until units free up (sim/README.md "Admission"). The lab has a clone time of its own
(`admission_lab`, --clone-time 1s); every VM made here is destroyed afterwards.
"""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
from pyVmomi import vim

from vhpc_toolkit.vsphere.inventory import read_inventory

OTHER = "vhpc-esx-02.hpc.vmware.com"
TEMPLATE_HOST = "vhpc-esx-01.hpc.vmware.com"


@pytest.fixture(scope="module")
def si(admission_lab):
    from pyVim.connect import Disconnect

    si = admission_lab.connect_plain()
    yield si
    Disconnect(si)


@pytest.fixture(scope="module")
def where(admission_lab):
    s = admission_lab.connect()
    try:
        inv = read_inventory(s, {"VirtualMachine": [], "HostSystem": ["parent"],
                                 "ClusterComputeResource": ["resourcePool"], "Datacenter": ["vmFolder"]})
        pools = {c.moid: c.get("resourcePool") for c in inv.of_type("ClusterComputeResource")}
        hosts = {h.name: (h.ref, pools[h.get("parent")._moId]) for h in inv.of_type("HostSystem")}
        return inv.find("VirtualMachine", "vhpc_clone").ref._moId, hosts, \
            inv.find("Datacenter", "HPC_Datacenter").get("vmFolder")._moId
    finally:
        s.close()


def clones(si, where, n: int, host: str) -> list:
    """n full clones of the template to host, submitted one after the other without waiting."""
    tmpl_id, hosts, folder_id = where
    tmpl, folder = vim.VirtualMachine(tmpl_id, si._stub), vim.Folder(folder_id, si._stub)
    ref, pool = hosts[host]
    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(host=vim.HostSystem(ref._moId, si._stub),
                                                         pool=vim.ResourcePool(pool._moId, si._stub)))
    tag = uuid.uuid4().hex[:6]
    return [tmpl.CloneVM_Task(folder=folder, name=f"adm-{tag}-{i}", spec=spec) for i in range(n)]


def infos_now(si, tasks) -> list:
    """Every task's info read in one RetrieveContents call: one moment of the lab, right after the
    submissions (read one task at a time, the first clones could end between two reads)."""
    pc = si.content.propertyCollector
    spec = vim.PropertyCollector.FilterSpec(
        objectSet=[vim.PropertyCollector.ObjectSpec(obj=t) for t in tasks],
        propSet=[vim.PropertyCollector.PropertySpec(type=vim.Task, pathSet=["info"])])
    by_id = {o.obj._moId: o.propSet[0].val for o in pc.RetrieveContents([spec])}
    return [by_id[t._moId] for t in tasks]


def finish(si, tasks) -> list[vim.Task]:
    """Wait for every task (polling pyVmomi's way), destroy the VMs; the tasks' final infos."""
    from pyVim.task import WaitForTasks

    WaitForTasks(tasks, si=si)
    WaitForTasks([t.info.result.Destroy_Task() for t in tasks], si=si)
    return [t.info for t in tasks]


def test_sixteen_clones_of_one_template_run_eight_at_a_time(si, where, admission_lab):
    admission_lab.admission(reset=True)
    tasks = clones(si, where, 16, OTHER)
    infos = infos_now(si, tasks)
    assert Counter(i.state for i in infos) == {"running": 8, "queued": 8}
    queued = [i for i in infos if i.state == "queued"]
    assert all(i.queueTime is not None and i.startTime is None for i in queued)
    done = finish(si, tasks)
    assert {i.state for i in done} == {"success"}
    # each queued one started only when one of the first eight had ended (clock of the lab)
    first_eight = [d for i, d in zip(infos, done) if i.state == "running"]
    later = [d for i, d in zip(infos, done) if i.state == "queued"]
    assert min(d.startTime for d in later) >= min(d.completeTime for d in first_eight)
    assert all((d.completeTime - d.startTime).total_seconds() >= 0.9 for d in done)   # the clone time
    rep = admission_lab.admission()
    assert rep["hosts"][TEMPLATE_HOST]["peak"] == 16 and rep["hosts"][OTHER]["peak"] == 16
    assert rep["peak_running"] == 8 and rep["waited"] == 8 and rep["max_queued_seconds"] >= 0.5


def test_clones_to_the_sources_own_host_run_four_at_a_time(si, where, admission_lab):
    admission_lab.admission(reset=True)
    tasks = clones(si, where, 6, TEMPLATE_HOST)
    assert Counter(i.state for i in infos_now(si, tasks)) == {"running": 4, "queued": 2}
    finish(si, tasks)
    rep = admission_lab.admission()
    assert rep["hosts"][TEMPLATE_HOST]["peak"] == 16 and rep["peak_running"] == 4 and rep["waited"] == 2
