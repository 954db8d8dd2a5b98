"""`network (--add | --remove) --port_group PG...`."""
from vhpc_toolkit.ops.network import change_adapters
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    return render_report(change_adapters(ctx.session(), args.vm, args.file, args.port_group, add=args.add), ctx)
