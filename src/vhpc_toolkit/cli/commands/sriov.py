"""`sriov [--query] [(--add | --remove) --sriov_port_group PG --pf ID] [--dvs_name D]`."""
from vhpc_toolkit.cli.commands.passthru import render_query
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices import change_sriov, query_sriov
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    if args.query:
        return render_query(query_sriov(ctx.session(), args.vm, args.file), ctx, "pfs",
                            [("PF", "id"), ("device", "device"), ("pnic", "pnic"), ("SR-IOV", "sriov_enabled"),
                             ("VFs", "virtual_functions"), ("in use", "in_use"), ("free", "free"),
                             ("on this VM", "on_this_vm")])
    if not (args.add or args.remove):
        raise InputError("sriov: give --query, or --add/--remove with --sriov_port_group PG --pf ID")
    report = change_sriov(ctx.session(), args.vm, args.file, args.sriov_port_group, args.pf, add=args.add,
                          dvs_name=args.dvs_name)
    return render_report(report, ctx)
