"""Render the plan of a cluster file (``cluster --plan``): what it asks for,
with ranges expanded, before anything touches vCenter."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence

from rich.markup import escape
from rich.table import Table

from vhpc_toolkit.clusterfile import ClusterSpec, ScriptStep, SwitchSpec, VMSpec


def plan_document(spec: ClusterSpec) -> Dict[str, List[Dict[str, Any]]]:
    """The JSON document of ``cluster --plan --output json``:
    ``{"vms": [VMSpec.to_dict()...], "svs": [...], "dvs": [...]}`` in file
    order (schema in docs/cluster-file.md)."""
    return {
        "vms": [vm.to_dict() for vm in spec.vms],
        "svs": [sw.to_dict() for sw in spec.svs],
        "dvs": [sw.to_dict() for sw in spec.dvs],
    }


def _text(value: Optional[object]) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _memory(gb: Optional[float]) -> str:
    if gb is None:
        return "-"
    return "%g GB" % gb


def _devices(vm: VMSpec) -> str:
    parts = []
    if vm.device:
        parts.append("passthrough " + ", ".join(vm.device))
    if vm.mmio_size is not None:
        parts.append("mmio %d GB" % vm.mmio_size)
    return "; ".join(parts) if parts else "-"


def _networks(vm: VMSpec) -> str:
    parts = []
    if vm.sriov_port_group:
        parts.append("sriov %s" % vm.sriov_port_group + (" (pf %s)" % vm.pf if vm.pf else ""))
    if vm.pvrdma_port_group:
        parts.append("pvrdma %s" % vm.pvrdma_port_group + (" (dvs %s)" % vm.dvs_name if vm.dvs_name else ""))
    return "; ".join(parts) if parts else "-"


def _script_name(step: ScriptStep) -> str:
    return step.source or step.path


def _scripts(vm: VMSpec) -> str:
    lines = []
    for barrier, steps in vm.script_groups():
        label = "first" if barrier is None else "barrier %d" % barrier
        lines.append("%s: %s" % (label, ", ".join(_script_name(s) for s in steps)))
    return "\n".join(lines) if lines else "-"


def _address(vm: VMSpec) -> str:
    if vm.ip:
        return vm.ip
    if vm.is_dhcp:
        return "dhcp"
    return "-"


VM_COLUMNS = ("VM", "host", "datastore", "ip", "hostname", "cpu", "memory",
              "devices", "vgpu", "sriov / pvrdma", "latency", "power", "scripts")
# Above this many VMs the table is laid out here rather than by rich, whose layout costs about
# 3 ms a row (half a minute for 10,000 VMs). Same frame; columns as wide as their content.
PLAIN_ROWS = 500


def _vm_cells(vm: VMSpec) -> List[str]:
    """The VM's row as plain text (rich markup not escaped)."""
    return [vm.name, _text(vm.host), _text(vm.datastore), _address(vm), _text(vm.guest_hostname),
            _text(vm.cpu), _memory(vm.memory), _devices(vm), _text(vm.vgpu), _networks(vm),
            _text(vm.latency), vm.power, _scripts(vm)]


def _vm_table(spec: ClusterSpec) -> Table:
    table = Table(title="VMs (%d)" % len(spec.vms), title_justify="left")
    for name in VM_COLUMNS:
        table.add_column(name, overflow="fold", style="bold" if name == "VM" else None,
                         no_wrap=name in ("VM", "host", "ip"))
    for vm in spec.vms:
        table.add_row(*(escape(c) for c in _vm_cells(vm)))
    return table


def plain_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table framed like rich's default one, laid out in one pass (no folding)."""
    cells = [[c.split("\n") for c in row] for row in rows]
    widths = [max([len(h)] + [len(part) for row in cells for part in row[i]]) for i, h in enumerate(headers)]

    def rule(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    out = [title, rule("┏", "┳", "┓", "━"),
           "┃" + "┃".join(" %-*s " % (w, h) for h, w in zip(headers, widths)) + "┃",
           rule("┡", "╇", "┩", "━")]
    for row in cells:
        for k in range(max(len(c) for c in row)):
            out.append("│" + "│".join(" %-*s " % (w, c[k] if k < len(c) else "") for c, w in zip(row, widths)) + "│")
    out.append(rule("└", "┴", "┘", "─"))
    return "\n".join(out)


def _switch_table(switches: List[SwitchSpec]) -> Table:
    table = Table(title="Switches (%d)" % len(switches), title_justify="left")
    for name in ("switch", "kind", "hosts", "pnic", "port group", "datacenter"):
        table.add_column(name, overflow="fold", style="bold" if name == "switch" else None)
    for sw in switches:
        table.add_row(escape(sw.name), sw.kind.upper(), escape(_text(sw.host)), escape(_text(sw.pnic)),
                      escape(_text(sw.port_group)), escape(_text(sw.datacenter)))
    return table


def render_plan(spec: ClusterSpec, console) -> None:
    """Print the expanded VMs, then the switches (when there are any), and
    the script phases in run order."""
    switches = list(spec.svs) + list(spec.dvs)
    if switches:
        console.print(_switch_table(switches))
    if len(spec.vms) > PLAIN_ROWS:
        console.print(plain_table("VMs (%d)" % len(spec.vms), VM_COLUMNS, (_vm_cells(vm) for vm in spec.vms)),
                      markup=False, highlight=False, soft_wrap=True)
    elif spec.vms:
        console.print(_vm_table(spec))
    phases = spec.script_phases()
    if phases:
        order = ", ".join("unlabelled" if b is None else "barrier %d" % b for b, _ in phases)
        console.print("Post scripts run in this order, each phase on every VM before the next: %s"
                      % escape(order))
