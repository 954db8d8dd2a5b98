"""Render cluster runs: the actions planned, the result of a create, a destroy's preview and result."""
from __future__ import annotations

from rich.markup import escape

from vhpc_toolkit.output.cluster.plan import grouped, screenful
from vhpc_toolkit.output.post import render_post
from vhpc_toolkit.output.report import render_report
from vhpc_toolkit.output.cluster.scripts import render_guest_state
from vhpc_toolkit.output.tables import common_domain, domain_note, render_table, short
from vhpc_toolkit.words import count

_STATUS = {"created": "green", "reconfigured": "green", "powered on": "green", "up to date": "dim",
           "drift": "yellow", "failed": "bold red", "rolled back": "red", "destroyed": "green",
           "absent": "yellow", "incomplete": "yellow", "not in the file": "yellow"}


def _status(status: str) -> str:
    return f"[{_STATUS.get(status, '')}]{status}[/]"


def render_actions(rows: list[dict], switch_rows: list[dict], pvrdma_rows: list[dict], rule_rows: list[dict],
                   console) -> None:
    """What a create will do, per switch, host (PVRDMA preparation), VM and DRS rule (shown before the
    confirmation)."""
    if switch_rows:
        render_table(console, "Switch actions", ["switch", "kind", "action", "detail"],
                     [[escape(r["name"]), r["kind"], r["action"], escape(r["detail"])] for r in switch_rows])
    if pvrdma_rows:
        render_table(console, "PVRDMA host preparation", ["switch", "host", "to do"],
                     [[escape(r["switch"]), escape(r["host"]), escape(", ".join(r["steps"]) or "prepared")]
                      for r in pvrdma_rows])
    domain = common_domain([r["host"] for r in rows])
    # VMs that differ only by name are one row
    rows = grouped([[r["vm"], escape(short(r["host"], domain)), r["action"], escape(r["detail"]) + "".join(
        f"\n[yellow]drift:[/] {escape(d)}" for d in r["drift"])] for r in rows], (0,))
    shown, hidden = screenful(rows)
    cells = []
    for i, (row, n) in enumerate(shown):
        if hidden and i == len(shown) - 5:
            cells.append([f"[dim]... {hidden} more[/]", "", "", ""])
        cells.append([escape(row[0]) + (f" [dim]({n} VMs)[/]" if n > 1 else "")] + row[1:])
    domain_note(console, domain)
    render_table(console, "VM actions", ["VM", "host", "action", "detail"], cells)
    if rule_rows:
        render_table(console, "DRS rules", ["rule", "cluster", "action", "detail"],
                     [[escape(r["name"]), escape(r["cluster"]), escape(r["action"]), escape(r["detail"])]
                      for r in rule_rows])


def render_prune(strays, console) -> None:
    """--prune: the VMs that will be destroyed (shown before the confirmation)."""
    console.print(f"[yellow]prune:[/] destroy {count(len(strays), 'VM')} no longer in the file: "
                  + escape(", ".join(o.name for o in strays)), highlight=False)


def render_result(result, ctx) -> None:
    console = ctx.out
    if result.switches:
        render_table(console, "Switches", ["switch", "kind", "status", "detail"],
                     [[escape(s.name), s.kind, _status(s.status), escape(s.detail)] for s in result.switches])
    domain = common_domain([v.host for v in result.vms])
    domain_note(console, domain)
    render_table(console, "Cluster", ["VM", "host", "IP", "devices", "status", "detail"],
                 [[escape(v.name), escape(short(v.host, domain)), v.ip or "-", escape(", ".join(v.devices) or "-"),
                   _status(v.status), escape(v.detail)] for v in result.vms])
    if result.rules:
        render_table(console, "DRS rules", ["rule", "cluster", "status", "detail"],
                     [[escape(r.name), escape(r.cluster), _status(r.status), escape(r.detail)] for r in result.rules])
    if result.pruned:
        render_table(console, "Pruned (no longer in the file)", ["VM", "status", "detail"],
                     [[escape(p.name), _status(p.status), escape(p.detail)] for p in result.pruned])
    console.print(result.summary(), highlight=False)
    nothing_done = all(v.status in ("up to date", "drift") for v in result.vms) and \
        all(s.status == "up to date" for s in result.switches) and result.post is None
    if nothing_done and result.spec is not None and result.up_to_date and result.verdict().ok:
        console.print(f"cluster {result.spec.name}: up to date ({count(len(result.vms), 'VM')}, "
                      f"{count(len(result.switches), 'switch')})", highlight=False)
    if result.post is not None:
        render_post(result.post, ctx)
    render_guest_state(result, console)
    for note in result.notes:    # after every table: exports written, what was left alone
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def render_destroy_preview(plan, console) -> None:
    """What `cluster --destroy` will remove (shown before the confirmation)."""
    names = ", ".join(o.name for o in plan.present) or "none"
    console.print(f"to destroy: {count(len(plan.present), 'VM')}: {names}", highlight=False)
    if plan.absent:
        console.print(f"absent (nothing to do): {', '.join(plan.absent)}", highlight=False)
    if getattr(plan, "copies", None):
        console.print(f"and {len(plan.copies)} copies of the template made as clone sources: "
                      + ", ".join(o.name for o in plan.copies), highlight=False)
    if plan.switches:
        console.print("then switches: " + ", ".join(
            f"{o.spec.name} ({o.spec.kind}{' on ' + ', '.join(o.hosts) if o.spec.kind == 'svs' else ''})"
            for o in plan.switches), highlight=False)
    if getattr(plan, "rules", None):
        console.print("then DRS rules: " + ", ".join(f"{r.name} ({c.name})" for c, r in plan.rules), highlight=False)
    for name, why in plan.left:
        console.print(f"left alone: {why}", highlight=False)
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def render_destroyed(result, ctx) -> None:
    render_report(result.report, ctx)
    for s in result.switches:
        ctx.out.print(f"switch {s.name} ({s.kind}): {s.status}: {s.detail}", highlight=False)
    for r in result.rules:
        ctx.out.print(f"DRS rule {r.name} ({r.cluster}): {r.status}: {r.detail}", highlight=False)
    for note in result.notes:
        ctx.out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def render_status(status, ctx) -> None:
    console = ctx.out
    if status.switches:
        render_table(console, "Switches", ["switch", "kind", "hosts", "status", "detail"],
                     [[escape(s.name), s.kind, escape(", ".join(s.hosts)), _status(s.status), escape(s.detail)]
                      for s in status.switches])
    domain = common_domain([v.host for v in status.vms] + [s.host for s in status.strays])
    domain_note(console, domain)
    render_table(console, f"Cluster {status.spec.name}" if status.spec else "Cluster",
                 ["VM", "host", "IP", "devices", "status", "detail"],
                 [[escape(v.name), escape(short(v.host, domain)), v.ip or "-", escape(", ".join(v.devices) or "-"),
                   _status(v.status), escape(v.detail)] for v in status.vms])
    if status.strays:
        render_table(console, _strays_title(status.strays), ["VM", "host", "power", "status", "--prune"],
                     [[escape(s.name), escape(short(s.host, domain)), s.power_state or "-", _status(s.status),
                       "destroys it" if not s.detail else "leaves it: not made by this cluster"]
                      for s in status.strays])
    if status.rules:
        render_table(console, "DRS rules", ["rule", "cluster", "status", "detail"],
                     [[escape(r.name), escape(r.cluster), _status(r.status), escape(r.detail)] for r in status.rules])
    for note in status.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    console.print(status.summary(), highlight=False)
    render_guest_state(status, console)


def _strays_title(strays) -> str:
    """Which of the VMs not in the file `--prune` would destroy: only those the file made (its mark)."""
    mine = sum(1 for s in strays if not s.detail)
    if mine == len(strays):
        return "Not in the file (cluster --create --prune destroys them)"
    if not mine:
        return "Not in the file (not made by it: cluster --create --prune leaves them)"
    return (f"Not in the file (cluster --create --prune destroys the {count(mine, 'VM')} it made, "
            f"and leaves the others)")


def render_list(result, ctx) -> None:
    """`cluster --list`: one row per cluster."""
    from vhpc_toolkit.cluster.ownership.listing import last_run_text, where

    if not result.clusters:
        ctx.out.print("no cluster on this vCenter carries a mark of the vHPC toolkit", highlight=False)
        return
    render_table(ctx.out, f"Clusters ({len(result.clusters)})", ["cluster", "where", "VMs", "switches", "last run"],
                 [[escape(c.name) + (" [dim](earlier version)[/]" if c.legacy else ""), escape(where(c)), str(c.vms),
                   escape(", ".join(f"{n} ({k})" for n, k in sorted(c.switches.items())) or "-"),
                   escape(last_run_text(c))] for c in result.clusters])


def render_adoption(adoption, console) -> None:
    """What `cluster --adopt` takes over (shown before the confirmation)."""
    render_table(console, f"To adopt into cluster {escape(adoption.owner.name)}", ["object", "kind", "now of"],
                 [[escape(c.name), c.kind, escape(c.mark.describe())] for c in adoption.candidates])
    for note in adoption.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
