"""`svs (--create | --destroy) --host H... --name N --pnic NIC --port_group PG`."""
from vhpc_toolkit.ops.switches import create_svs, destroy_svs
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    if args.create:
        report = create_svs(ctx.session(), args.name, args.host, args.pnic, args.port_group)
    else:
        report = destroy_svs(ctx.session(), args.name, args.host)
    return render_report(report, ctx)
