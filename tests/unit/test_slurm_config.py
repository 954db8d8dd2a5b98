"""`slurm config`: the Slurm side of a cluster file, written from the file alone; host lists; the
programs' environment and local state (pure code and local files, no vCenter)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vhpc_toolkit.cluster.planning.problems import problems_by_vm
from vhpc_toolkit.cluster.planning.problems import said_once
from vhpc_toolkit.clusterfile import parse_cluster_text
from vhpc_toolkit.errors import InputError, ValidationFailed
from vhpc_toolkit.slurm import claims
from vhpc_toolkit.slurm.config import Invocation, config_files, write_config
from vhpc_toolkit.slurm.guest_env import script_env
from vhpc_toolkit.slurm.hostlists import compress, expand
from vhpc_toolkit.slurm.nodes import slurm_node
from vhpc_toolkit.slurm.power import _node_problems

FILE = """
[_SLURM_]
controller: ctl.example.org
suspend_time: 120
resume_timeout: 900

[BASE]
template: tpl
cpu: 16
cores_per_socket: 8
memory: 128

[_VMS_]
login01: BASE role: login ip: 10.0.0.10
gpu{001:004}: BASE elastic: yes gpu: 2 gpu_model: V100 features: [v100, nvlink] ip: 10.0.0.{11:14}
mig{1:2}: BASE elastic: yes vgpu: grid_a100-3-20c partition: mig
cpu{01:02}: BASE partition: [cpu, all] guest_hostname: c{01:02}
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "hpc.conf"
    path.write_text(FILE)
    return parse_cluster_text(FILE, str(path), base_dir=str(tmp_path))


def test_node_lines(spec, tmp_path):
    files = config_files(spec, tmp_path, Invocation(python="/opt/py", vcenter_conf="/etc/vc.conf"))
    lines = files["nodes.conf"].splitlines()
    assert lines[1] == "GresTypes=gpu"
    assert lines[2] == ("NodeName=gpu001 NodeAddr=10.0.0.11 CPUs=16 Sockets=2 CoresPerSocket=8 ThreadsPerCore=1 "
                        "RealMemory=124518 Gres=gpu:v100:2 Features=v100,nvlink State=CLOUD")
    assert lines[6].startswith("NodeName=mig1 CPUs=16 ") and \
        "Gres=gpu:a100-3-20c:1 State=CLOUD  # NodeAddr set when it boots" in lines[6]
    assert lines[8].startswith("NodeName=cpu01 NodeHostname=c01 CPUs=16") and "State=UNKNOWN" in lines[8] \
        and "no IP yet" in lines[8]
    assert not any("login01" in line for line in lines)   # login nodes are not compute nodes
    assert files["gres.conf"].splitlines()[1:3] == ["NodeName=gpu001 Name=gpu Type=v100 File=/dev/nvidia[0-1]",
                                                    "NodeName=gpu002 Name=gpu Type=v100 File=/dev/nvidia[0-1]"]
    assert "NodeName=mig1 Name=gpu Type=a100-3-20c File=/dev/nvidia0" in files["gres.conf"]


def test_partitions_default_first(spec, tmp_path):
    lines = config_files(spec, tmp_path, Invocation())["partitions.conf"].splitlines()[1:]
    assert lines == ["PartitionName=compute Nodes=gpu[001-004] Default=YES MaxTime=INFINITE State=UP",
                     "PartitionName=mig Nodes=mig[1-2] MaxTime=INFINITE State=UP",
                     "PartitionName=cpu Nodes=cpu[01-02] MaxTime=INFINITE State=UP",
                     "PartitionName=all Nodes=cpu[01-02] MaxTime=INFINITE State=UP"]


def test_power_save_and_programs(spec, tmp_path):
    out = tmp_path / "slurm"
    files = write_config(spec, str(out), Invocation(python="/opt/py", vcenter_conf="/etc/vc.conf"))
    assert [Path(f).name for f in files] == ["nodes.conf", "partitions.conf", "power_save.conf", "gres.conf",
                                             "vhpc-resume", "vhpc-suspend", "vhpc-resume-fail"]
    power = (out / "power_save.conf").read_text().splitlines()
    settings = [line for line in power if not line.startswith("#")]
    assert settings == [f"ResumeProgram={out}/vhpc-resume", f"SuspendProgram={out}/vhpc-suspend",
                        f"ResumeFailProgram={out}/vhpc-resume-fail", "SuspendTime=120", "SuspendTimeout=30",
                        "ResumeTimeout=900", "SuspendExcNodes=cpu[01-02]"]
    program = out / "vhpc-resume"
    assert program.stat().st_mode & stat.S_IXUSR
    text = program.read_text()
    log = spec.path[:-5] + ".slurm.log"
    assert "PATH=/usr/local/sbin:" in text and "export PATH HOME" in text
    assert f"exec </dev/null >/dev/null 2>>{log}" in text
    assert (f'exec /opt/py -m vhpc_toolkit --vcenter-conf /etc/vc.conf --yes slurm resume "$1" --file {spec.path} '
            f"--log-file {log}") in text


def test_program_runs_with_no_environment(spec, tmp_path):
    """slurmctld's empty environment and closed stdio: the program still finds everything (here it
    runs `slurm resume` of a name that is no node, which needs no vCenter)."""
    out = tmp_path / "slurm"
    write_config(spec, str(out), Invocation(python=sys.executable))
    subprocess.run([str(out / "vhpc-resume"), "login01"], env={}, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    log = Path(spec.path[:-5] + ".slurm.log").read_text()
    assert "resume[" in log and "login01: failed: not a compute node of" in log


def test_config_needs_a_slurm_section(tmp_path):
    spec = parse_cluster_text("[_VMS_]\nn1: template: t\n", str(tmp_path / "x.conf"))
    with pytest.raises(InputError, match="no \\[_SLURM_\\] section"):
        config_files(spec, tmp_path, Invocation())


def test_cli_writes_the_folder(tmp_path, run_cli):
    path = tmp_path / "hpc.conf"
    path.write_text(FILE.replace("template: tpl", "template: vhpc_clone"))
    conf = tmp_path / "vCenter.conf"
    conf.write_text("server: vc.example.org\n")
    code, out, err = run_cli("--vcenter-conf", conf, "slurm", "config", "--file", path, "--write", tmp_path / "s")
    assert code == 0 and "wrote 7 files" in out, err
    assert f"--vcenter-conf {conf}" in (tmp_path / "s" / "vhpc-suspend").read_text()
    code, out, err = run_cli("slurm", "config", "--file", path, "--write", path)
    assert code == 2 and "not a folder" in err


def test_hostlists():
    assert expand("gpu[001-003,7]") == ["gpu001", "gpu002", "gpu003", "gpu7"]
    assert expand("a1,a1,b2") == ["a1", "b2"]
    assert compress(["gpu001", "gpu002", "gpu004"]) == "gpu[001-002,004]"
    with pytest.raises(InputError, match="bad host list 'gpu\\[1-'"):
        expand("gpu[1-")


def test_script_environment(spec):
    env = script_env(spec)
    gpu = next(vm for vm in spec.vms if vm.name == "gpu001")
    login = spec.vms[0]
    assert "VHPC_SLURM_CONTROLLER=ctl.example.org:6817" in env(gpu)
    assert {"VHPC_SLURM_NODENAME=gpu001", "VHPC_SLURM_ROLE=compute", "VHPC_SLURM_ELASTIC=yes",
            "VHPC_SLURM_CLUSTER=hpc"} <= set(env(gpu))
    assert "VHPC_SLURM_ROLE=login" in env(login)
    assert script_env(parse_cluster_text("[_VMS_]\nn1: template: t\n")) is None


def test_plan_problems_go_to_the_nodes_they_name():
    problems = ["f:3: VM gpu001: no host can take it", "f:4: VM gpu002: x", "f:4: VM gpu003: x",
                "f:9: template 'x' not found"]
    exc = ValidationFailed(said_once(problems, "f"), by_vm=problems_by_vm(problems, "f"))
    by_node, general = _node_problems(exc, ["gpu001", "gpu002", "gpu003", "gpu004"])
    assert by_node == {"gpu001": [problems[0]], "gpu002": [problems[1]], "gpu003": [problems[2]]}
    assert general == ["f:9: template 'x' not found"]


def test_plan_problems_not_sorted_by_vm_are_every_nodes():
    assert _node_problems(ValidationFailed(["f:3: VM gpu001: no"]), ["gpu001", "gpu002"]) == ({}, ["f:3: VM gpu001: no"])


def test_node_without_size_leaves_it_to_slurm():
    spec = parse_cluster_text("[_VMS_]\nn1: template: t\n")
    assert slurm_node(spec.vms[0]).line() == "NodeName=n1 State=UNKNOWN"


def test_local_state_forgets_processes_that_exited(tmp_path):
    path = tmp_path / "c.conf"
    path.write_text("")
    state = claims.ClusterState(str(path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    state.write({"claims": [{"pid": int(dead), "vm": "a", "host": "host-1"},
                            {"pid": os.getpid(), "vm": "b", "host": "host-1", "gpus": ["0000:3b:00.0"]}],
                 "vcenter_lock": {"key": 5, "holders": [int(dead)]}})
    doc = state.read()
    assert [c["vm"] for c in doc["claims"]] == ["b"] and doc["vcenter_lock"] == {"key": 5, "holders": []}
    assert state.lock_path.name == ".c.conf.slurm.lock"
    json.loads(state.state_path.read_text())


def test_planning_lock_is_exclusive_across_processes(tmp_path):
    path = tmp_path / "c.conf"
    path.write_text("")
    state = claims.ClusterState(str(path))
    other = [sys.executable, "-c", "import sys; from vhpc_toolkit.slurm.claims import ClusterState as S\n"
             "try:\n with S(sys.argv[1]).locked(0.2): print('got it')\nexcept Exception as e: print(type(e).__name__)",
             str(path)]
    with state.locked(1):
        assert subprocess.run(other, capture_output=True, text=True).stdout.strip() == "Busy"
    assert subprocess.run(other, capture_output=True, text=True).stdout.strip() == "got it"


def test_config_files_are_never_written_through_a_planted_link(spec, tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (out / ".nodes.conf.tmp").symlink_to(victim)   # the old fixed temporary name
    (out / "gres.conf").mkdir()                    # a file that cannot be replaced: the write fails
    with pytest.raises(InputError, match="--write"):
        write_config(spec, str(out), Invocation(python=sys.executable))
    assert victim.read_text() == "keep\n"
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [".nodes.conf.tmp"]   # no temporary left
    assert stat.S_IMODE((out / "nodes.conf").stat().st_mode) == 0o644

