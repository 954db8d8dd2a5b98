"""`slurm config --write DIR`: the Slurm side of a cluster file, to ``Include`` from the site's slurm.conf.

nodes.conf (NodeName lines), partitions.conf, gres.conf (when there are GPUs), power_save.conf
(the programs and timings) and the three programs slurmctld runs: small shell wrappers with
absolute paths, since slurmctld starts them with no PATH, no HOME, and stdin, stdout and stderr
closed. Everything is written from the file alone (no vCenter).
"""
from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.output.files import replace_file
from vhpc_toolkit.slurm.hostlists import compress
from vhpc_toolkit.slurm.nodes import compute_vms, gres_text, nodes_text, slurm_node

PROGRAMS = {"resume": "vhpc-resume", "suspend": "vhpc-suspend", "resume-fail": "vhpc-resume-fail"}
SLURM_NAMES = {"resume": "ResumeProgram", "suspend": "SuspendProgram", "resume-fail": "ResumeFailProgram"}


def default_log(spec: ClusterSpec) -> str:
    """The programs' log: beside the cluster file, named after it."""
    path = Path(os.path.abspath(spec.path))
    return str(path.with_name(path.stem + ".slurm.log"))


@dataclass
class Invocation:
    """How the programs call the toolkit: the Python that runs it, the vCenter settings, the log."""

    python: str = sys.executable
    vcenter_conf: str | None = None
    log_file: str | None = None


def partitions_text(spec: ClusterSpec) -> str:
    """One PartitionName line per partition, Slurm's default first (``spec`` has a [_SLURM_] section)."""
    default = spec.slurm.partition_default
    members: dict[str, list[str]] = {default: []}
    for vm in compute_vms(spec):
        for name in vm.partition or [default]:
            members.setdefault(name, []).append(vm.name)
    lines = [f"# Slurm partitions of {spec.path}, written by vhpc_toolkit"]
    for name, nodes in members.items():
        if nodes:
            lines.append(f"PartitionName={name} Nodes={compress(nodes)}" + (" Default=YES" if name == default else "")
                         + " MaxTime=INFINITE State=UP")
    return "\n".join(lines) + "\n"


def power_save_text(spec: ClusterSpec, folder: Path) -> str:
    """The power-saving settings: the programs, the timings, the nodes never suspended."""
    s = spec.slurm
    lines = [f"# Slurm power saving of {spec.path}, written by vhpc_toolkit.",
             "# Elastic nodes are cloned or powered on when jobs need them and suspended when idle.",
             "# Also set in slurm.conf (site-wide settings, not written here): PrivateData=cloud (sinfo",
             "# shows powered-down nodes), SlurmctldParameters=idle_on_node_suspend,enable_configless (the",
             "# nodes fetch their configuration from slurmctld) and ReturnToService=2.",
             *(f"{SLURM_NAMES[action]}={folder / program}" for action, program in PROGRAMS.items()),
             f"SuspendTime={s.suspend_time}", f"SuspendTimeout={s.suspend_timeout}",
             f"ResumeTimeout={s.resume_timeout}"]
    static = [vm.name for vm in compute_vms(spec) if not vm.elastic]
    if static:
        lines.append(f"SuspendExcNodes={compress(static)}")
    return "\n".join(lines) + "\n"


def program_text(spec: ClusterSpec, action: str, how: Invocation) -> str:
    """A program slurmctld runs: sets what slurmctld does not give, then runs the toolkit."""
    log = how.log_file or default_log(spec)
    argv = [how.python, "-m", "vhpc_toolkit"]
    if how.vcenter_conf:
        argv += ["--vcenter-conf", how.vcenter_conf]
    argv += ["--yes", "slurm", action]
    tail = ["--file", os.path.abspath(spec.path), "--log-file", log]
    return "\n".join([
        "#!/bin/sh",
        f"# Slurm's {SLURM_NAMES[action]} for {os.path.abspath(spec.path)}, written by `vhpc_toolkit slurm config`.",
        "# slurmctld starts it with a host list as its argument, no PATH, no HOME, and stdin, stdout and",
        "# stderr closed: everything is spelled out here. Errors go to the log, one line each.",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        'HOME=$(getent passwd "$(id -u)" | cut -d: -f6)',
        "export PATH HOME",
        f"exec </dev/null >/dev/null 2>>{shlex.quote(log)}",
        "exec " + " ".join(shlex.quote(a) for a in argv) + ' "$1" ' + " ".join(shlex.quote(a) for a in tail),
        ""])


def config_files(spec: ClusterSpec, folder: Path, how: Invocation) -> dict[str, str]:
    """File name -> content of everything ``slurm config`` writes into ``folder``."""
    if spec.slurm is None:
        raise InputError(f"{spec.path}: no [_SLURM_] section (the controller the nodes register with, and how "
                         "elastic nodes are suspended); see docs/slurm.md")
    nodes = [slurm_node(vm) for vm in compute_vms(spec)]
    files = {"nodes.conf": nodes_text(nodes, spec.path), "partitions.conf": partitions_text(spec),
             "power_save.conf": power_save_text(spec, folder)}
    gres = gres_text(nodes, spec.path)
    if gres:
        files["gres.conf"] = gres
    for action, program in PROGRAMS.items():
        files[program] = program_text(spec, action, how)
    return files


def write_config(spec: ClusterSpec, folder: str, how: Invocation) -> list[str]:
    """Write the files into ``folder`` (made when missing); their paths, in writing order."""
    out = Path(os.path.abspath(folder))
    if out.exists() and not out.is_dir():
        raise InputError(f"--write {folder}: not a folder")
    files = config_files(spec, out, how)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in files.items():
            path = str(out / name)
            replace_file(path, text)   # a new file renamed over the old: no fixed temporary name
            os.chmod(path, 0o755 if name in PROGRAMS.values() else 0o644)
            written.append(path)
    except OSError as exc:
        raise InputError(f"--write {folder}: {exc.strerror or exc}") from None
    return written
