"""Exports of a cluster for the next tool: MPI hostfiles, an Ansible inventory, Slurm node lines, JSON.

Every VM of the cluster is written; one without an IP yet is written by name with a
comment saying so, never dropped. Paths are checked before the first change
(``check_export_paths``), files written after the run (``write_exports``).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from vhpc_toolkit.errors import refuse_problems

KINDS = {
    "hostfile": "MPI hostfile, Open MPI syntax (`IP slots=N`)",
    "mpich": "MPI hostfile, MPICH/Hydra syntax (`IP:N`)",
    "ansible": "Ansible inventory (YAML): groups per section and device kind",
    "slurm": "Slurm NodeName lines (and a gres.conf fragment beside it when there are GPUs)",
    "json": "the cluster's JSON document",
}


@dataclass
class Node:
    """One VM as the next tool sees it."""

    name: str
    ip: str | None
    cpus: int | None = None
    memory_gb: float | None = None
    gpus: int = 0                  # passthrough GPUs and vGPUs
    groups: list[str] = field(default_factory=list)


def parse_export(text: str) -> tuple[str, str]:
    """``KIND=PATH`` -> (kind, path); ValueError naming the kinds otherwise."""
    kind, sep, path = text.partition("=")
    if not sep or not path or kind not in KINDS:
        raise ValueError(f"expected KIND=PATH with KIND one of {', '.join(KINDS)}, got {text!r}")
    return kind, path


def _group(name: str) -> str:
    """A valid Ansible group name: letters, digits, underscores, not starting with a digit."""
    out = re.sub(r"\W", "_", name)
    return out if not out[:1].isdigit() else "_" + out


def nodes(result, spec) -> list[Node]:
    """The cluster's VMs with what exports need: the result's IPs, the file's sizes, groups and devices."""
    specs = {vm.name: vm for vm in spec.vms}
    out = []
    for vm in result.vms:
        s = specs.get(vm.name)
        if s is None:
            continue
        kinds = [k for k, present in (("gpu", s.device or s.gpu), ("vgpu", s.vgpu), ("sriov", s.sriov_port_group),
                                      ("pvrdma", s.pvrdma_port_group)) if present]
        gpus = len(s.device or []) + (s.gpu or 0) + len(s.vgpus)
        cpus = getattr(vm, "cpu", None) or s.cpu   # what vCenter holds, when the run read it back
        out.append(Node(vm.name, vm.ip, cpus, s.memory, gpus, [_group(g) for g in s.sections] + kinds))
    return out


def mpi_hostfile(items: list[Node], flavor: str = "hostfile") -> str:
    """One line per VM: Open MPI's `IP slots=N` or MPICH's `IP:N` (N = its vCPUs when known)."""
    syntax = "Open MPI" if flavor == "hostfile" else "MPICH"
    lines = [f"# MPI hostfile written by vhpc_toolkit ({syntax} syntax)"]
    for n in items:
        if not n.ip:
            lines.append(f"# {n.name}: no IP yet")
        elif flavor == "hostfile":
            lines.append(f"{n.ip}" + (f" slots={n.cpus}" if n.cpus else "") + f"  # {n.name}")
        else:
            lines.append(f"{n.ip}" + (f":{n.cpus}" if n.cpus else "") + f"  # {n.name}")
    return "\n".join(lines) + "\n"


def _scalar(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def ansible_inventory(items: list[Node], group: str = "vhpc") -> str:
    """YAML inventory: every VM in group ``group`` with its host vars, and in a group per file
    section it inherits and per device kind (gpu, vgpu, sriov, pvrdma)."""
    lines = ["# Ansible inventory written by vhpc_toolkit", "all:", "  children:", f"    {group}:", "      hosts:"]
    for n in items:
        if not n.ip:
            lines.append(f"        {_scalar(n.name)}:  # no IP yet: ansible_host unknown")
        else:
            lines.append(f"        {_scalar(n.name)}:")
            lines.append(f"          ansible_host: {_scalar(n.ip)}")
        for key, value in (("vhpc_cpus", n.cpus), ("vhpc_memory_gb", n.memory_gb), ("vhpc_gpus", n.gpus)):
            if value is not None:
                lines.append(f"          {key}: {_scalar(value)}")
    groups: dict[str, list[str]] = {}
    for n in items:
        for g in n.groups:
            groups.setdefault(g, []).append(n.name)
    for g, names in groups.items():
        lines += [f"    {_scalar(g)}:", "      hosts:"] + [f"        {_scalar(name)}: {{}}" for name in names]
    return "\n".join(lines) + "\n"


def gres_path(path: str) -> str:
    return path[:-5] + ".gres.conf" if path.endswith(".conf") else path + ".gres.conf"


def write_exports(result, spec, exports: list[tuple[str, str]]) -> list[str]:
    """Write each (kind, path); returns one note per file written, for the report."""
    items = nodes(result, spec)
    notes = []
    for kind, path in exports:
        if kind in ("hostfile", "mpich"):
            Path(path).write_text(mpi_hostfile(items, kind))
        elif kind == "ansible":
            Path(path).write_text(ansible_inventory(items))
        elif kind == "slurm":   # the same node lines as `slurm config` writes (slurm/nodes.py)
            from vhpc_toolkit.slurm.nodes import export_text

            conf, gres = export_text(result, spec)
            Path(path).write_text(conf)
            if gres:
                Path(gres_path(path)).write_text(gres)
                notes.append(f"gres.conf fragment: {gres_path(path)}")
        else:
            Path(path).write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
        notes.append(f"{KINDS[kind].split(',')[0].split(' (')[0]}: {path}")
    return notes


def check_export_paths(exports: list[tuple[str, str]], cluster_file: str) -> None:
    """Every export path can be written, checked before the first change (``exports``: (label, path))."""
    problems, seen = [], {}
    protected = os.path.realpath(cluster_file)
    for label, path in exports:
        real = os.path.realpath(path)
        parent = os.path.dirname(real) or "."
        if real == protected:
            problems.append(f"{label} {path}: that is the cluster file itself")
        elif real in seen:
            problems.append(f"{label} {path}: also given to {seen[real]}")
        elif os.path.isdir(real):
            problems.append(f"{label} {path}: is a folder; give a file name")
        elif not os.path.isdir(parent):
            problems.append(f"{label} {path}: folder {parent} does not exist")
        elif os.path.exists(real) and not os.path.isfile(real):
            problems.append(f"{label} {path}: not a regular file")
        elif not os.access(real if os.path.exists(real) else parent, os.W_OK):
            problems.append(f"{label} {path}: not writable")
        seen.setdefault(real, label)
    refuse_problems(problems)
