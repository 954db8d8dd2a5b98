"""Render a PostReport: a row per VM and script (exit code, time, output tail), then the first failure."""
from __future__ import annotations

import shlex

from rich.markup import escape

from vhpc_toolkit.output.tables import render_table
from vhpc_toolkit.results import FAILED, NOT_RUN, OK, SKIPPED, STARTED

_STYLE = {OK: "green", STARTED: "cyan", FAILED: "bold red", SKIPPED: "yellow", NOT_RUN: "dim"}
TABLE_TAIL = 5  # output lines shown per script in the table (JSON has them all)


def render_post(report, ctx) -> None:
    headers = ["VM", "script"] + (["barrier"] if report.phases else []) + ["status", "exit", "time",
                                                                          "output / detail"]
    rows = []
    for r in report.runs:
        detail = "\n".join(r.output_tail[-TABLE_TAIL:])
        if r.error or r.status == STARTED or not detail:
            extra = r.describe() if (r.error or r.status == STARTED) else ""
            detail = "\n".join(x for x in (detail, extra) if x)
        row = [f"[bold]{escape(r.vm)}[/]", escape(" ".join([r.script, *(shlex.quote(a) for a in r.args)]))]
        if report.phases:
            row.append("-" if r.barrier is None else str(r.barrier))
        row += [f"[{_STYLE.get(r.status, '')}]{r.status}[/]", "" if r.exit_code is None else str(r.exit_code),
                "" if r.duration is None else f"{r.duration:.1f}s", escape(detail)]
        rows.append(row)
    render_table(ctx.out, report.operation, headers, rows)
    for note in report.notes:
        ctx.out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    ctx.out.print(report.summary(), highlight=False)
    failure = report.failure()
    if failure:
        ctx.err.print(f"[red]error:[/] {escape(failure)}", highlight=False)
