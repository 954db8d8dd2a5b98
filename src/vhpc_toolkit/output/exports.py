"""Exports of a cluster for the next tool: an MPI hostfile and an Ansible inventory."""
from __future__ import annotations

import os
from pathlib import Path

from vhpc_toolkit.errors import ValidationFailed


def mpi_hostfile(vms, cpus: dict[str, int | None]) -> str:
    """One line per running VM with an IP: `IP slots=N` (N = its vCPUs when known), named in a comment.

    Open MPI and MPICH (Hydra, with `IP:N`) read different syntaxes; Open MPI's is written here.
    """
    lines = ["# MPI hostfile written by vhpc_toolkit (Open MPI syntax)"]
    for vm in vms:
        if vm.ip:
            slots = f" slots={cpus[vm.name]}" if cpus.get(vm.name) else ""
            lines.append(f"{vm.ip}{slots}  # {vm.name}")
    return "\n".join(lines) + "\n"


def ansible_inventory(vms, group: str = "vhpc") -> str:
    """INI inventory: every VM with an IP in one group, `ansible_host` set to that IP."""
    lines = ["# Ansible inventory written by vhpc_toolkit", f"[{group}]"]
    lines += [f"{vm.name} ansible_host={vm.ip}" for vm in vms if vm.ip]
    return "\n".join(lines) + "\n"


def write_exports(result, spec, hostfile: str | None, inventory: str | None) -> list[str]:
    """Write the asked exports; returns what was written, for the report."""
    written = []
    if hostfile:
        cpus = {vm.name: vm.cpu for vm in spec.vms}
        cpus.update({vm.name: vm.cpu for vm in result.vms if vm.cpu})   # what vCenter holds, when read
        Path(hostfile).write_text(mpi_hostfile(result.vms, cpus))
        written.append(f"MPI hostfile: {hostfile}")
    if inventory:
        Path(inventory).write_text(ansible_inventory(result.vms))
        written.append(f"Ansible inventory: {inventory}")
    return written


def check_export_paths(paths: dict[str, str | None], cluster_file: str) -> None:
    """Every export path can be written, checked before the first change (``paths``: flag -> path)."""
    problems, seen = [], {}
    protected = os.path.realpath(cluster_file)
    for flag, path in paths.items():
        if not path:
            continue
        real = os.path.realpath(path)
        parent = os.path.dirname(real) or "."
        if real == protected:
            problems.append(f"{flag} {path}: that is the cluster file itself")
        elif real in seen:
            problems.append(f"{flag} {path}: also given to {seen[real]}")
        elif os.path.isdir(real):
            problems.append(f"{flag} {path}: is a folder; give a file name")
        elif not os.path.isdir(parent):
            problems.append(f"{flag} {path}: folder {parent} does not exist")
        elif os.path.exists(real) and not os.path.isfile(real):
            problems.append(f"{flag} {path}: not a regular file")
        elif not os.access(real if os.path.exists(real) else parent, os.W_OK):
            problems.append(f"{flag} {path}: not writable")
        seen.setdefault(real, flag)
    if problems:
        raise ValidationFailed(problems)
