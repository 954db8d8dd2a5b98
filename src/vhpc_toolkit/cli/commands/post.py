"""`post --script S... [--guest_username] [--guest_password] [--wait] (--vm | --file)`."""
from __future__ import annotations

import getpass

from rich.markup import escape
from rich.table import Table

from vhpc_toolkit.ops.post import FAILED, OK, SKIPPED, guest_password, run_scripts
from vhpc_toolkit.ops.targets import target_names
from vhpc_toolkit.output.jsonout import print_json

_STYLE = {OK: "green", "started": "cyan", FAILED: "bold red", SKIPPED: "yellow", "not run": "dim"}
TABLE_TAIL = 5  # output lines shown per script in the table (JSON has them all)


def run(ctx, args) -> int:
    names = [name for name, _ in target_names(args.vm, args.file)]
    prompt = (lambda msg: getpass.getpass(msg)) if ctx.interactive else None
    password = guest_password(args.guest_password, ctx.env, prompt,
                              what=f"{args.guest_username} in the guest OS")
    report = run_scripts(ctx.session(), [(name, list(args.script)) for name in names],
                         username=args.guest_username, password=password, wait=args.wait)
    return render(report, ctx)


def render(report, ctx) -> int:
    """A per VM and script table (or JSON); returns 1 if any script failed."""
    if ctx.output == "json":
        print_json(report.to_dict(), ctx.out)
    else:
        table = Table(title=report.operation, title_justify="left")
        table.add_column("VM", style="bold")
        table.add_column("script")
        if report.phases:
            table.add_column("barrier")
        table.add_column("status")
        table.add_column("exit", justify="right")
        table.add_column("time", justify="right")
        table.add_column("output / detail", overflow="fold")
        for r in report.runs:
            style = _STYLE.get(r.status, "")
            detail = "\n".join(r.output_tail[-TABLE_TAIL:])
            if r.error or r.status == "started" or not detail:
                extra = r.describe() if (r.error or r.status == "started") else ""
                detail = "\n".join(x for x in (detail, extra) if x)
            row = [escape(r.vm), escape(r.script)]
            if report.phases:
                row.append("-" if r.barrier is None else str(r.barrier))
            row += [f"[{style}]{r.status}[/]", "" if r.exit_code is None else str(r.exit_code),
                    "" if r.duration is None else f"{r.duration:.1f}s", escape(detail)]
            table.add_row(*row)
        ctx.out.print(table)
        ctx.out.print(report.summary(), highlight=False)
        failure = report.failure()
        if failure:
            ctx.err.print(f"[red]error:[/] {escape(failure)}", highlight=False)
    return 1 if report.failed else 0
