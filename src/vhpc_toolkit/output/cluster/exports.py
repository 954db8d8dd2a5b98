"""Exports of a cluster for the next tool: MPI hostfiles, an Ansible inventory, Slurm node lines, JSON.

Every VM of the cluster is written; one without an IP yet is written by name with a
comment saying so, never dropped. Paths are checked before the first change
(``check_export_paths``), files written after the run (``write_exports``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import yaml

from vhpc_toolkit.output.files import check_paths, replace_file

KINDS = {
    "hostfile": "MPI hostfile, Open MPI syntax (`IP slots=N`)",
    "mpich": "MPI hostfile, MPICH/Hydra syntax (`IP:N`)",
    "ansible": "Ansible inventory (YAML): a group named after the cluster, its children per section and device kind",
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
    user: str | None = None        # the guest user the file's post scripts log in as (guest_username)


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
        out.append(Node(vm.name, vm.ip, cpus, s.memory, gpus, [_group(g) for g in s.sections] + kinds,
                        s.guest_username))
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


def ansible_inventory(items: list[Node], cluster: str = "vhpc") -> str:
    """YAML inventory: every VM in the group named after the cluster, with its host vars, and in a
    child group per file section it inherits and per device kind (gpu, vgpu, sriov, pvrdma), each
    named ``<cluster>_<group>``: two clusters' inventories merge without mixing their groups."""
    top = _group(cluster)
    lines = ["# Ansible inventory written by vhpc_toolkit", "all:", "  children:", f"    {_scalar(top)}:", "      hosts:"]
    for n in items:
        if not n.ip:
            lines.append(f"        {_scalar(n.name)}:  # no IP yet: ansible_host unknown")
        else:
            lines.append(f"        {_scalar(n.name)}:")
            lines.append(f"          ansible_host: {_scalar(n.ip)}")
        for key, value in (("ansible_user", n.user), ("vhpc_cpus", n.cpus), ("vhpc_memory_gb", n.memory_gb),
                           ("vhpc_gpus", n.gpus)):
            if value is not None:
                lines.append(f"          {key}: {_scalar(value)}")
    groups: dict[str, list[str]] = {}
    for n in items:
        for g in n.groups:
            groups.setdefault(f"{top}_{g}", []).append(n.name)
    if groups:
        lines.append("      children:")
    for g, names in groups.items():
        lines += [f"        {_scalar(g)}:", "          hosts:"] + [f"            {_scalar(name)}: {{}}" for name in names]
    return "\n".join(lines) + "\n"


def gres_path(path: str) -> str:
    return path[:-5] + ".gres.conf" if path.endswith(".conf") else path + ".gres.conf"


def has_gpus(spec) -> bool:
    """Whether a compute VM of the file has GPUs (then the slurm export writes a gres.conf fragment
    too; a login node's GPUs are no Slurm node's: slurm/nodes.py)."""
    from vhpc_toolkit.slurm.nodes import compute_vms, gpu_gres

    return any(gpu_gres(vm) for vm in compute_vms(spec))


def export_targets(kind: str, path: str, spec) -> list[str]:
    """Every file an export writes: the slurm export also its gres.conf fragment when there are GPUs."""
    return [path, gres_path(path)] if kind == "slurm" and has_gpus(spec) else [path]


def write_exports(result, spec, exports: list[tuple[str, str]]) -> list[str]:
    """Write each (kind, path), every file replaced whole (a symlink is replaced, never written
    through); returns one note per file written, and one per file that could not be (``result``'s
    ``export_errors`` then lists them: the run's exit status is 1)."""
    items = nodes(result, spec)
    notes = []
    for kind, path in exports:
        files = (_slurm_files(path, result, spec) if kind == "slurm"
                 else {path: _export_text(kind, items, result, spec.name)})
        for target, text in files.items():
            try:
                replace_file(target, text)
            except OSError as exc:
                error = f"--export {kind} {target}: not written: {exc.strerror or exc}"
                notes.append(error)
                result.export_errors = list(getattr(result, "export_errors", None) or []) + [error]
                continue
            what = "gres.conf fragment" if target != path else KINDS[kind].split(',')[0].split(' (')[0]
            notes.append(f"{what}: {target}")
    return notes


def _slurm_files(path: str, result, spec) -> dict[str, str]:
    """The slurm export: the same node lines as `slurm config` writes (slurm/nodes.py), and the
    gres.conf fragment beside them when there are GPUs."""
    from vhpc_toolkit.slurm.nodes import export_text

    nodes_conf, gres = export_text(result, spec)
    return {path: nodes_conf, gres_path(path): gres} if gres else {path: nodes_conf}


def _export_text(kind: str, items: list[Node], result, name: str) -> str:
    """The file of an export kind but slurm (_slurm_files)."""
    if kind in ("hostfile", "mpich"):
        return mpi_hostfile(items, kind)
    if kind == "ansible":
        return ansible_inventory(items, name)
    return json.dumps(result.to_dict(), indent=2, default=str) + "\n"


def files_read(spec) -> dict[str, str]:
    """The cluster file and the scripts and checks it names: path -> what it is (what no export and
    no log file may overwrite)."""
    out = {spec.path: "the cluster file"}
    for vm in spec.vms:
        out.update({step.path: f"a script of VM {vm.name}" for step in list(vm.scripts) + list(vm.checks)})
    return out


def check_export_paths(exports: list[tuple[str, str]], cluster_file: str, spec=None) -> None:
    """Every file the exports write can be written, checked before the first change (``exports``:
    (kind, path)); none may be the cluster file or one of its scripts or checks. A symlink is fine:
    it is replaced, never written through."""
    protected = {cluster_file: "the cluster file", **(files_read(spec) if spec is not None else {})}
    paths = [(f"--export {kind}", target) for kind, path in exports
             for target in (export_targets(kind, path, spec) if spec is not None else [path])]
    check_paths(paths, protected)
