"""The Slurm programs on the lab, called as slurmctld calls them (no slurmctld needed here).

- Two resumes of one cluster at the same time: neither refuses the other on the cluster lock, and
  they never give two VMs one GPU (the second counts the first's placements in flight).
- A stopped node (suspend: power_off) keeps its GPU: a node resumed meanwhile gets another one.
- resume powers on a stopped node instead of cloning it; suspend powers off (suspend: power_off)
  or destroys (suspend: destroy); resume-fail destroys; a name that is no node of the file fails.
- cluster --create leaves elastic nodes to Slurm; --status finds nothing amiss about absent ones.
- A cluster locked by another run (an administrator's cluster --create): the resume waits, then
  fails its nodes naming the holder.
Everything is read back with pyVmomi; every VM made is destroyed.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from pyVmomi import vim

from tests.integration.test_json_schemas import check
from tests.plugins.slurm import slurm_log, vms

CLUSTER = """
[_SLURM_]
controller: 127.0.0.1:9
suspend: SUSPEND
resume_timeout: 60

[BASE]
template: vhpc_clone
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
cpu: 2
memory: 4

[GPU]
elastic: yes
gpu: 1
gpu_model: V100
host: vhpc-esx-05.hpc.vmware.com

[_VMS_]
PFX-login: BASE role: login
PFX-gpu1: BASE GPU
PFX-gpu2: BASE GPU
PFX-cpu{1:2}: BASE elastic: yes
"""


def program(lab, action: str, hostlist: str, path, *extra) -> subprocess.Popen:
    """A Slurm program as slurmctld starts it: a process of its own, stdin closed."""
    return subprocess.Popen([sys.executable, "-m", "vhpc_toolkit", "--vcenter-conf", str(lab.conf), "--yes",
                             "--output", "json", "slurm", action, hostlist, "--file", str(path), *extra],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


def gpu_ids(vm) -> list[str]:
    return [d.backing.id for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualPCIPassthrough)
            and isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo)]


@pytest.fixture
def elastic_file(cluster_file):
    def write(suspend="power_off"):
        return cluster_file(CLUSTER.replace("SUSPEND", suspend))
    return write


def test_overlapping_resumes_neither_refuse_each_other_nor_share_a_gpu(lab, session, elastic_file, faults):
    path, pfx = elastic_file()
    # Clones that take a while: the second resume plans while the first one's clone is in flight,
    # when vCenter does not show its GPU taken yet.
    faults(task_delay_ms=1500)
    lab.reset_calls()
    first = program(lab, "resume", f"{pfx}-gpu1", path)
    deadline = time.monotonic() + 60
    while lab.calls()["methods"].get("CloneVM_Task", 0) < 1:
        assert first.poll() is None, f"the first resume ended before cloning: {finish(first)}"
        assert time.monotonic() < deadline, "the first resume did not start its clone within 60 s"
        time.sleep(0.02)
    second = program(lab, "resume", f"{pfx}-gpu2", path)
    (c1, o1), (c2, o2) = finish(first), finish(second)
    assert (c1, c2) == (0, 0), o1 + o2
    made = vms(session, {f"{pfx}-gpu1", f"{pfx}-gpu2"})
    assert all(vm.runtime.powerState == "poweredOn" for vm in made.values()) and len(made) == 2
    ids = [gpu_ids(vm) for vm in made.values()]
    assert all(len(i) == 1 for i in ids) and ids[0] != ids[1], ids   # both on vhpc-esx-05: its two V100s
    log = slurm_log(path)
    pids = {line.split("resume[")[1].split("]")[0] for line in log.splitlines() if " resume[" in line}
    assert len(pids) == 2 and log.count(": cloned on vhpc-esx-05") == 2, log


def test_a_stopped_node_keeps_its_gpu_for_its_next_power_on(lab, session, elastic_file):
    path, pfx = elastic_file()
    one, two = f"{pfx}-gpu1", f"{pfx}-gpu2"
    assert finish(program(lab, "resume", one, path))[0] == 0
    assert finish(program(lab, "suspend", one, path))[0] == 0
    # gpu1 is off: vCenter counts its V100 free, but the new node must take the host's other one.
    assert finish(program(lab, "resume", two, path))[0] == 0
    code, out = finish(program(lab, "resume", one, path))
    assert code == 0, out
    made = vms(session, {one, two})
    assert sorted(made) == sorted([one, two]) and all(vm.runtime.powerState == "poweredOn" for vm in made.values())
    assert gpu_ids(made[one]) != gpu_ids(made[two])


def test_resume_suspend_and_resume_fail_of_a_node(lab, session, elastic_file, cli):
    path, pfx = elastic_file()
    node = f"{pfx}-cpu1"
    code, out = finish(program(lab, "resume", node, path))
    assert code == 0, out
    vm = vms(session, {node})[node]
    assert vm.runtime.powerState == "poweredOn" and vm.guest.ipAddress.startswith("127.")
    code, out, err = cli("--output", "json", "slurm", "suspend", node, "--file", path)
    assert code == 0, err
    check(json.loads(out), "report")
    assert json.loads(out)["results"][0]["detail"] == "powered off"
    assert vm.runtime.powerState == "poweredOff"
    # A stopped node is powered on again, not cloned: the same VM.
    assert finish(program(lab, "resume", node, path))[0] == 0
    assert vm.runtime.powerState == "poweredOn" and vms(session, {node})[node] == vm
    assert "powering on (it exists, powered off)" in slurm_log(path)
    assert finish(program(lab, "resume-fail", node, path))[0] == 0
    assert vms(session, {node}) == {}
    assert "destroyed (Slurm gave up on it" in slurm_log(path)


def test_suspend_destroy_and_an_unknown_node(lab, session, elastic_file):
    path, pfx = elastic_file("destroy")
    node = f"{pfx}-cpu2"
    assert finish(program(lab, "resume", node, path))[0] == 0
    assert finish(program(lab, "suspend", node, path))[0] == 0
    assert vms(session, {node}) == {}
    code, out = finish(program(lab, "resume", f"{pfx}-login,nosuch", path))
    assert code == 1 and "not a compute node of" in out
    # Its one line for both names: failed, and (no slurmctld knows them here) not marked DOWN, saying why.
    lines = [line for line in slurm_log(path).splitlines()
             if f" {pfx}-login,nosuch: failed: not a compute node of {path}; not marked DOWN: " in line]
    assert len(lines) == 1 and " resume[" in lines[0], slurm_log(path)


def test_cluster_create_and_status_leave_elastic_nodes_to_slurm(lab, session, elastic_file, cli):
    path, pfx = elastic_file()
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0, out + err
    assert set(vms(session, {f"{pfx}-login", f"{pfx}-gpu1", f"{pfx}-cpu1"})) == {f"{pfx}-login"}
    code, out, err = cli("--output", "json", "cluster", "--status", "--file", path)
    assert code == 0, out + err
    assert "elastic: Slurm creates it when jobs need it" in out


def test_a_locked_cluster_makes_the_resume_wait_then_fail_naming_the_holder(lab, elastic_file):
    from vhpc_toolkit.cluster.ownership import lock

    path, pfx = elastic_file()
    path.write_text(path.read_text().replace("resume_timeout: 60", "resume_timeout: 2"))
    s = lab.connect()
    from vhpc_toolkit.clusterfile import parse_cluster_file

    held = lock.acquire(s, parse_cluster_file(path, check_scripts=False).name, str(path))   # an admin's cluster --create
    assert held.locked
    try:
        started = time.monotonic()
        code, out = finish(program(lab, "resume", f"{pfx}-cpu1", path))
        assert code == 1 and "locked by" in out and time.monotonic() - started >= 1.5, out
        assert "locked by" in slurm_log(path)
    finally:
        lock.release(s, held)
        s.close()
