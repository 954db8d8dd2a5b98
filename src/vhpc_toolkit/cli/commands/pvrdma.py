"""`pvrdma (--add | --remove) --pvrdma_port_group PG [--dvs_name D]`."""
from vhpc_toolkit.ops.devices import change_pvrdma
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    report = change_pvrdma(ctx.session(), args.vm, args.file, args.pvrdma_port_group, add=args.add,
                           dvs_name=args.dvs_name)
    return render_report(report, ctx)
