"""`vgpu [--query] [(--add | --remove) --profile P]`."""
from vhpc_toolkit.cli.commands.passthru import render_query
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices import change_vgpu, query_vgpu
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    if args.query:
        return render_query(query_vgpu(ctx.session(), args.vm, args.file), ctx, "profiles",
                            [("profile", "profile"), ("on this VM", "on_this_vm")])
    if not (args.add or args.remove):
        raise InputError("vgpu: give --query, or --add --profile P, or --remove [--profile P]")
    return render_report(change_vgpu(ctx.session(), args.vm, args.file, args.profile, add=args.add), ctx)
