"""Elastic Slurm end to end: Debian's real slurmctld drives the toolkit's programs on the lab.

examples/cluster-scripts/cluster-slurm.conf (one login node, four elastic GPU nodes) with its
controller on this machine and short timings; munged and slurmctld run from their binaries
(tests/plugins/slurm.py) and include what `slurm config` writes. Jobs make Slurm run
`vhpc_toolkit slurm resume`: the VMs are cloned and booted, their post script starts slurmd, which
fetches its configuration from slurmctld and registers; idle nodes are suspended and their VMs
powered off. A resume that fails leaves its node DOWN with the toolkit's reason, and the job
runs elsewhere. Everything is read back with pyVmomi and Slurm's own commands.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyVmomi import vim

from tests.plugins.slurm import (cluster_file_for, free_port, give_template_munge_key, install, slurm_log,
                                 start_slurm, stop_slurm, take_template_munge_key, vms, wait_for)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cluster-scripts" / "cluster-slurm.conf"
TIMINGS = {"suspend_time": 5, "suspend_timeout": 5, "resume_timeout": 120}   # bounds, not waits


@pytest.fixture(scope="module")
def elastic(lab, tmp_path_factory, session):
    why = install() if os.geteuid() == 0 else "Slurm's daemons and the lab's guests run as root here"
    if why:
        pytest.skip(f"Slurm is not available: {why}")
    work = tmp_path_factory.mktemp("slurm")
    port = free_port()
    cluster = cluster_file_for(EXAMPLE, work / "elastic.conf", port, **TIMINGS)
    slurm = start_slurm(work / "ctl", cluster, lab.conf, port)
    key = give_template_munge_key(lab.guest_root, "vhpc_clone", slurm.munge_key)
    try:
        code, out, err = _cli(lab, "cluster", "--create", "--file", cluster)
        assert code == 0, out + err
        yield slurm, cluster, session
    finally:
        stop_slurm(slurm)
        _cli(lab, "cluster", "--destroy", "--file", cluster)
        take_template_munge_key(key)


def _cli(lab, *argv):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "vhpc_toolkit", "--vcenter-conf", str(lab.conf), "--yes",
                           *map(str, argv)], capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_login_node_is_made_and_the_elastic_nodes_wait_for_slurm(elastic):
    slurm, cluster, session = elastic
    found = vms(session, {"login01", "gpu001", "gpu002", "gpu003", "gpu004"})
    assert list(found) == ["login01"] and found["login01"].runtime.powerState == "poweredOn"
    assert set(slurm.node_states("gpu[001-004]").values()) == {"idle~"}


def test_sbatch_resumes_two_nodes_runs_the_job_then_suspends_them(lab, elastic):
    slurm, cluster, session = elastic
    job = slurm.sbatch("-N", "2", "--chdir=/tmp", "-o", "/tmp/job-%j.out", "--wrap", "hostname")
    info = wait_for(lambda: (j := slurm.job(job)).get("JobState") in ("COMPLETED", "FAILED") and j, 180,
                    f"job {job} done")
    assert info["JobState"] == "COMPLETED", info
    assert info["NodeList"] == "gpu[001-002]"
    # The job ran on the first node: its output file is in that guest's file system.
    assert (lab.guest_root / "gpu001" / "tmp" / f"job-{job}.out").read_text().strip() == "gpu001"
    running = vms(session, {"gpu001", "gpu002"})
    assert sorted(running) == ["gpu001", "gpu002"]
    gpus = [[d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualPCIPassthrough)]
            for vm in running.values()]
    assert all(len(g) == 1 for g in gpus)
    # The nodes' slurmd may register (and the job run) before the ResumeProgram has written its last lines.
    wait_for(lambda: any(" resume[" in line and "gpu001: cloned on " in line and "booted with 127.200.0.11" in line
                         for line in slurm_log(cluster).splitlines()), 60, "the resume's log line")
    # Idle for SuspendTime: Slurm suspends them, and the VMs are powered off.
    wait_for(lambda: [vm.runtime.powerState for vm in vms(session, {"gpu001", "gpu002"}).values()]
             == ["poweredOff", "poweredOff"], 60, "gpu001 and gpu002 present and powered off")
    wait_for(lambda: set(slurm.node_states("gpu[001-002]").values()) == {"idle~"}, 30, "nodes powered down in Slurm")
    assert any(" suspend[" in line and "gpu001: powered off" in line for line in slurm_log(cluster).splitlines())


def test_a_failing_resume_leaves_the_node_down_and_the_job_runs_elsewhere(elastic, faults):
    slurm, cluster, session = elastic
    wait_for(lambda: set(slurm.node_states("gpu[001-004]").values()) == {"idle~"}, 60, "every node powered down")
    faults(fail_method=[{"method": "PowerOnVM_Task", "regex": "^gpu001$"}])
    job = slurm.sbatch("-N", "1", "--chdir=/tmp", "-o", "/tmp/job-%j.out", "--wrap", "hostname")
    reason = wait_for(lambda: slurm.node_reason("gpu001").startswith("vhpc: ") and slurm.node_reason("gpu001"),
                      60, "gpu001 marked DOWN by the toolkit")
    assert "PowerOnVM_Task" in reason or "power on" in reason, reason
    assert "down" in slurm.node_states("gpu001")["gpu001"]
    info = wait_for(lambda: (j := slurm.job(job)).get("JobState") == "COMPLETED" and j, 180, f"job {job} done")
    assert info["NodeList"] != "gpu001" and int(info["Restarts"]) >= 1, info
    assert any("gpu001: failed, marked DOWN: " in line for line in slurm_log(cluster).splitlines())
