"""`passthru [--query] [(--add | --remove) --device ID...] [--mmio_size GB]`."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices import change_passthrough, query_passthrough
from vhpc_toolkit.output.jsonout import print_json
from vhpc_toolkit.output.report import render_report


def render_query(report, ctx, rows_key: str, columns: list[tuple[str, str]]) -> int:
    """A table per VM of what its host offers (``columns``: (title, row key)), or the JSON report."""
    if ctx.output == "json":
        print_json(report.to_dict(), ctx.out)
        return 0
    for r in report.results:
        table = Table(title=f"{r.vm} on {r.data.get('host') or '?'}", title_justify="left")
        for title, _ in columns:
            table.add_column(title)
        for row in r.data.get(rows_key) or []:
            table.add_row(*(escape("" if row.get(key) is None else str(row.get(key))) for _, key in columns))
        ctx.out.print(table)
        if not r.data.get(rows_key):
            ctx.out.print(escape(r.detail), highlight=False)
    return 0


def render_with_warnings(report, ctx) -> int:
    code = render_report(report, ctx)
    for r in report.results:
        for warning in r.data.get("warnings") or []:
            ctx.warn(warning)
    return code


def run(ctx, args) -> int:
    if args.query:
        report = query_passthrough(ctx.session(), args.vm, args.file)
        return render_query(report, ctx, "devices", [("id", "id"), ("vendor", "vendor"), ("device", "device"),
                                                     ("status", "status"), ("used by", "used_by")])
    if not (args.add or args.remove):
        raise InputError("passthru: give --query, or --add/--remove with --device ID...")
    report = change_passthrough(ctx.session(), args.vm, args.file, args.device, add=args.add,
                                mmio_size=args.mmio_size)
    return render_with_warnings(report, ctx)
