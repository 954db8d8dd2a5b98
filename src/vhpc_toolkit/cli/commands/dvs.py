"""`dvs (--create | --destroy) --name N --host H... --pnic NIC... --port_group PG [--datacenter D]`."""
from vhpc_toolkit.ops.switches import create_dvs, destroy_dvs
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    if args.create:
        report = create_dvs(ctx.session(), args.name, args.host, args.pnic, args.port_group,
                            datacenter=args.datacenter)
    else:
        report = destroy_dvs(ctx.session(), args.name, datacenter=args.datacenter)
    return render_report(report, ctx)
