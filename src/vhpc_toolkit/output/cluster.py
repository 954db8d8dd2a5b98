"""Render cluster plans and results."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

_STATUS = {"created": "green", "reconfigured": "green", "powered on": "green", "up to date": "dim",
           "drift": "yellow", "failed": "bold red", "rolled back": "red", "destroyed": "green",
           "absent": "dim"}


def render_actions(rows: list[dict], switch_rows: list[dict], console) -> None:
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
    for r in rows:
        detail = r["detail"] + "".join(f"\n[yellow]drift:[/] {escape(d)}" for d in r["drift"])
        t.add_row(escape(r["vm"]), escape(r["host"] or "-"), r["action"], detail)
    console.print(t)


def render_result(result, console) -> None:
    if result.switches:
        t = Table(title="Switches", title_justify="left")
        for col in ("switch", "kind", "status", "detail"):
            t.add_column(col, overflow="fold")
        for s in result.switches:
            t.add_row(escape(s["name"]), s["kind"], f"[{_STATUS.get(s['status'], '')}]{s['status']}[/]",
                      escape(s["detail"]))
        console.print(t)
    t = Table(title="Cluster", title_justify="left")
    for col in ("VM", "host", "IP", "devices", "status", "detail"):
        t.add_column(col, overflow="fold")
    for v in result.vms:
        t.add_row(escape(v.name), escape(v.host or "-"), v.ip or "-", escape(", ".join(v.devices) or "-"),
                  f"[{_STATUS.get(v.status, '')}]{v.status}[/]", escape(v.detail))
    console.print(t)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(result.summary(), highlight=False)
