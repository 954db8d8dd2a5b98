"""Render the plan of a cluster file (``cluster --plan``): what it asks for,
with ranges expanded, before anything touches vCenter."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rich.markup import escape

from vhpc_toolkit.clusterfile import ClusterSpec, ScriptStep, VMSpec
from vhpc_toolkit.namelists import compact_names
from vhpc_toolkit.output.tables import common_domain, domain_note, render_table, short


def plan_document(spec: ClusterSpec) -> Dict[str, Any]:
    """The JSON document of ``cluster --plan --output json``:
    ``{"vms": [VMSpec.to_dict()...], "svs": [...], "dvs": [...]}`` in file
    order (schema in docs/schemas/plan.json), plus ``notes`` when some
    scripts are missing (--create refuses those)."""
    doc: Dict[str, Any] = {
        "cluster": spec.name,
        "vms": [vm.to_dict() for vm in spec.vms],
        "svs": [sw.to_dict() for sw in spec.svs],
        "dvs": [sw.to_dict() for sw in spec.dvs],
    }
    if spec.slurm is not None:
        doc["slurm"] = spec.slurm.to_dict()
    notes = list(spec.notes) + missing_script_notes(spec)
    if notes:
        doc["notes"] = notes
    return doc


def missing_script_notes(spec: ClusterSpec) -> List[str]:
    """A plan needs no script on disk; it says which ones --create would not find."""
    import os

    missing = {}
    for vm in spec.vms:
        for kind, steps in (("script", vm.scripts), ("check", vm.checks)):
            for step in steps:
                if not os.path.isfile(step.path):
                    missing.setdefault((vm.line, kind, step.source or step.path, step.path), []).append(vm.name)
    return ["%s:%d: %s %r not found (looked for %s; used by %s): cluster --create refuses it"
            % (spec.path, line, kind, source, path, ", ".join(vms[:3]) + (" ..." if len(vms) > 3 else ""))
            for (line, kind, source, path), vms in missing.items()]


def _text(value: Optional[object]) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def _memory(gb: Optional[float]) -> str:
    if gb is None:
        return "-"
    return "%g GB" % gb


def _devices(vm: VMSpec) -> str:
    parts = []
    if vm.device:
        parts.append(("dynamic " if vm.dynamic else "passthrough ") + ", ".join(vm.device))
    if vm.gpu:
        parts.append("%d x %s%s%s" % (vm.gpu, vm.gpu_model or "GPU", " [%s]" % vm.gpu_label if vm.gpu_label else "",
                                      " dynamic" if vm.dynamic else ""))
    if vm.mmio_size is not None:
        parts.append("mmio %d GB" % vm.mmio_size)
    return escape("; ".join(parts)) if parts else "-"


def _placed(vm: VMSpec) -> str:
    """Where a VM without ``host:`` goes: chosen by the planner, with its policy and group."""
    extra = [vm.placement] if vm.placement else []
    if vm.anti_affinity:
        extra.append("apart: %s" % vm.anti_affinity)
    return "[dim]planner%s[/]" % (" (%s)" % escape(", ".join(extra)) if extra else "")


def _networks(vm: VMSpec) -> str:
    parts = []
    for a in vm.sriov_adapters():
        parts.append("sriov %s (pf %s%s)" % (a.port_group, a.pf, ", dvs %s" % a.dvs_name if a.dvs_name else ""))
    if vm.pvrdma_port_group:
        parts.append("pvrdma %s" % vm.pvrdma_port_group + (" (dvs %s)" % vm.dvs_name if vm.dvs_name else ""))
    return escape("; ".join(parts)) if parts else "-"


def _script_name(step: ScriptStep) -> str:
    return step.shown


def _scripts(vm: VMSpec) -> str:
    lines = []
    for barrier, steps in vm.script_groups():
        label = "unlabelled" if barrier is None else "barrier %d" % barrier   # the words of the run order below
        lines.append("%s: %s" % (label, ", ".join(_script_name(s) for s in steps)))
    if vm.checks:
        lines.append("checks: %s" % ", ".join(_script_name(s) for s in vm.checks))
    return escape("\n".join(lines)) if lines else "-"


def _address(vm: VMSpec) -> str:
    if vm.ip:
        return escape(vm.ip)
    if vm.is_dhcp:
        return "dhcp"
    return "-"


SCREENFUL = 40   # VM rows shown before the table summarises the rest


def screenful(items: list, limit: int = SCREENFUL) -> tuple[list, int]:
    """The items to show (the first ``limit - 5`` and the last 5 when there are more) and how many are left out."""
    if len(items) <= limit:
        return list(items), 0
    return list(items[:limit - 5]) + list(items[-5:]), len(items) - limit


VM_HEADERS = ["VM", "host", "datastore", "ip", "hostname", "cpu", "memory", "devices", "vgpu", "sriov / pvrdma",
              "latency", "power", "scripts"]


def grouped(rows: list[list[str]], varying: tuple[int, ...], tags: list | None = None) -> list[tuple[list[str], int]]:
    """Runs of neighbouring rows that differ only in the ``varying`` columns (plain text), each as one
    row and its count: ``node1..node8`` with ``10.0.0.1..10.0.0.8``; a list that is no run is shortened.
    Rows of different ``tags`` (e.g. their file line) are never one."""
    runs: list[list[list[str]]] = []
    keys: list = []
    for row, tag in zip(rows, tags or [None] * len(rows)):
        key = ([c for i, c in enumerate(row) if i not in varying], tag)
        if runs and keys[-1] == key:
            runs[-1].append(row)
        else:
            runs.append([row])
            keys.append(key)
    out = []
    for run in runs:
        row = list(run[0])
        for i in varying if len(run) > 1 else ():
            cells = list(dict.fromkeys(r[i] for r in run))
            row[i] = cells[0] if len(cells) == 1 else compact_names(cells, limit=3)
        out.append((row, len(run)))
    return out


def _vm_rows(spec: ClusterSpec, domain: str) -> list[list[str]]:
    plain = (0, 3, 4)   # name, IP, host name: plain text, escaped below
    rows = [[vm.name, escape(short(vm.host, domain)) if vm.host else _placed(vm), _text(vm.datastore),
             vm.ip if vm.ip and not vm.is_dhcp else _address(vm), vm.guest_hostname or "-", _text(vm.cpu),
             _memory(vm.memory), _devices(vm), _text(vm.vgpu), _networks(vm), _text(vm.latency), vm.power,
             _scripts(vm)] for vm in spec.vms]
    # VMs that differ only by name, IP and host name are one row (names and IPs as runs)
    shown, hidden = screenful(grouped(rows, plain, [vm.line for vm in spec.vms]))
    out = []
    for i, (row, count) in enumerate(shown):
        if hidden and i == len(shown) - 5:
            out.append(["[dim]... %d more[/]" % hidden] + [""] * (len(VM_HEADERS) - 1))
        cells = [escape(c) if j in plain else c for j, c in enumerate(row)]
        cells[0] = f"[bold]{cells[0]}[/]" + (f" [dim]({count} VMs)[/]" if count > 1 else "")
        out.append(cells)
    return out


def render_plan(spec: ClusterSpec, console) -> None:
    """Print the cluster's name, the switches (when there are any), the expanded VMs, and the script
    phases in run order."""
    origin = f"line {spec.name_line}" if spec.name_line else "the file's name; [_CLUSTER_] name: sets another"
    console.print(f"Cluster [bold]{escape(spec.name)}[/] ({escape(origin)})", highlight=False)
    switches = list(spec.svs) + list(spec.dvs)
    if switches:
        render_table(console, "Switches (%d)" % len(switches),
                     ["switch", "kind", "hosts", "pnic", "port group", "mtu", "datacenter"],
                     [[f"[bold]{escape(sw.name)}[/]", sw.kind.upper(), _text(sw.host), _text(sw.pnic),
                       _text(sw.port_group), _text(sw.mtu), _text(sw.datacenter)] for sw in switches])
    if spec.vms:
        domain = common_domain([vm.host for vm in spec.vms])
        domain_note(console, domain)
        render_table(console, "VMs (%d)" % len(spec.vms), VM_HEADERS, _vm_rows(spec, domain))
    phases = spec.script_phases()
    if phases:
        order = ", ".join("unlabelled" if b is None else "barrier %d" % b for b, _ in phases)
        console.print("Post scripts run in this order, each phase on every VM before the next: %s"
                      % escape(order))
    for note in list(spec.notes) + missing_script_notes(spec):
        console.print("[yellow]note:[/] %s" % escape(note), highlight=False)
