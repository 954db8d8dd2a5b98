"""Render cluster runs: the actions planned, the result of a create, a destroy's preview and result."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from vhpc_toolkit.output.plan import screenful
from vhpc_toolkit.output.post import render_post
from vhpc_toolkit.output.report import render_report

_STATUS = {"created": "green", "reconfigured": "green", "powered on": "green", "up to date": "dim",
           "drift": "yellow", "failed": "bold red", "rolled back": "red", "destroyed": "green",
           "absent": "dim"}


def _status(status: str) -> str:
    return f"[{_STATUS.get(status, '')}]{status}[/]"


def render_actions(rows: list[dict], switch_rows: list[dict], console) -> None:
    """What a create will do, per switch and VM (shown before the confirmation)."""
    if switch_rows:
        t = Table(title="Switch actions", title_justify="left")
        for col in ("switch", "kind", "action", "detail"):
            t.add_column(col)
        for r in switch_rows:
            t.add_row(escape(r["name"]), r["kind"], r["action"], escape(r["detail"]))
        console.print(t)
    t = Table(title="VM actions", title_justify="left")
    for col in ("VM", "host", "action", "detail"):
        t.add_column(col, overflow="fold")
    shown, hidden = screenful(rows)
    for i, r in enumerate(shown):
        if hidden and i == len(shown) - 5:
            t.add_row(f"[dim]... {hidden} more[/]", "", "", "")
        detail = r["detail"] + "".join(f"\n[yellow]drift:[/] {escape(d)}" for d in r["drift"])
        t.add_row(escape(r["vm"]), escape(r["host"] or "-"), r["action"], detail)
    console.print(t)


def render_result(result, ctx) -> None:
    console = ctx.out
    if result.switches:
        t = Table(title="Switches", title_justify="left")
        for col in ("switch", "kind", "status", "detail"):
            t.add_column(col, overflow="fold")
        for s in result.switches:
            t.add_row(escape(s.name), s.kind, _status(s.status), escape(s.detail))
        console.print(t)
    t = Table(title="Cluster", title_justify="left")
    for col in ("VM", "host", "IP", "devices", "status", "detail"):
        t.add_column(col, overflow="fold")
    for v in result.vms:
        t.add_row(escape(v.name), escape(v.host or "-"), v.ip or "-", escape(", ".join(v.devices) or "-"),
                  _status(v.status), escape(v.detail))
    console.print(t)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(result.summary(), highlight=False)
    nothing_done = all(v.status in ("up to date", "drift") for v in result.vms) and \
        all(s.status == "up to date" for s in result.switches)
    if nothing_done and result.spec is not None:
        console.print(f"cluster {result.spec.path}: up to date ({len(result.vms)} VM(s), "
                      f"{len(result.switches)} switch(es))" if result.up_to_date else
                      f"cluster {result.spec.path}: {len(result.drifted)} VM(s) differ from the file (see drift)",
                      highlight=False)

    if result.post is not None:
        render_post(result.post, ctx)


def render_destroy_preview(plan, console) -> None:
    """What `cluster --destroy` will remove (shown before the confirmation)."""
    names = ", ".join(o.name for o in plan.present) or "none"
    console.print(f"to destroy: {len(plan.present)} VM(s): {names}", highlight=False)
    if plan.absent:
        console.print(f"absent (nothing to do): {', '.join(plan.absent)}", highlight=False)
    if plan.switches:
        console.print("then switches: " + ", ".join(
            f"{o.spec.name} ({o.spec.kind}{' on ' + ', '.join(o.hosts) if o.spec.kind == 'svs' else ''})"
            for o in plan.switches), highlight=False)
    for name, why in plan.left:
        console.print(f"left alone: {why}", highlight=False)
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def render_destroyed(result, ctx) -> None:
    render_report(result.report, ctx)
    for s in result.switches:
        ctx.out.print(f"switch {s.name} ({s.kind}): {s.status}: {s.detail}", highlight=False)
    for note in result.notes:
        ctx.out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
