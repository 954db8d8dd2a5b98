"""Render the plan of a cluster file (``cluster --plan``): what it asks for,
with ranges expanded, before anything touches vCenter."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rich.markup import escape

from vhpc_toolkit.clusterfile import ClusterSpec, ScriptStep, VMSpec
from vhpc_toolkit.output.tables import common_domain, domain_note, render_table, short


def plan_document(spec: ClusterSpec) -> Dict[str, Any]:
    """The JSON document of ``cluster --plan --output json``:
    ``{"vms": [VMSpec.to_dict()...], "svs": [...], "dvs": [...]}`` in file
    order (schema in docs/schemas/plan.json), plus ``notes`` when some
    scripts are missing (--create refuses those)."""
    doc: Dict[str, Any] = {
        "vms": [vm.to_dict() for vm in spec.vms],
        "svs": [sw.to_dict() for sw in spec.svs],
        "dvs": [sw.to_dict() for sw in spec.dvs],
    }
    if spec.slurm is not None:
        doc["slurm"] = spec.slurm.to_dict()
    notes = missing_script_notes(spec)
    if notes:
        doc["notes"] = notes
    return doc


def missing_script_notes(spec: ClusterSpec) -> List[str]:
    """A plan needs no script on disk; it says which ones --create would not find."""
    import os

    missing = {}
    for vm in spec.vms:
        for step in vm.scripts:
            if not os.path.isfile(step.path):
                missing.setdefault((vm.line, step.source or step.path, step.path), []).append(vm.name)
    return ["%s:%d: script %r not found (looked for %s; used by %s): cluster --create refuses it"
            % (spec.path, line, source, path, ", ".join(vms[:3]) + (" ..." if len(vms) > 3 else ""))
            for (line, source, path), vms in missing.items()]


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
    return step.source or step.path


def _scripts(vm: VMSpec) -> str:
    lines = []
    for barrier, steps in vm.script_groups():
        label = "first" if barrier is None else "barrier %d" % barrier
        lines.append("%s: %s" % (label, ", ".join(_script_name(s) for s in steps)))
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


def _vm_rows(spec: ClusterSpec, domain: str) -> list[list[str]]:
    shown, hidden = screenful(spec.vms)
    rows = []
    for i, vm in enumerate(shown):
        if hidden and i == len(shown) - 5:
            rows.append(["[dim]... %d more[/]" % hidden] + [""] * (len(VM_HEADERS) - 1))
        rows.append([f"[bold]{escape(vm.name)}[/]", escape(short(vm.host, domain)) if vm.host else
                     _placed(vm),
                     _text(vm.datastore), _address(vm), _text(vm.guest_hostname), _text(vm.cpu), _memory(vm.memory),
                     _devices(vm), _text(vm.vgpu), _networks(vm), _text(vm.latency), vm.power, _scripts(vm)])
    return rows


def render_plan(spec: ClusterSpec, console) -> None:
    """Print the switches (when there are any), the expanded VMs, and the script phases in run order."""
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
    for note in missing_script_notes(spec):
        console.print("[yellow]note:[/] %s" % escape(note), highlight=False)
