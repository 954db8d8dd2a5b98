"""`vgpu [--query] [(--add | --remove) --profile P]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import add_remove, vm_or_file, vm_targets
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices.vgpu import change_vgpu, query_vgpu
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    vm_or_file(p, "for the vGPU operation")
    add_remove(p, "a vGPU", required=False,
               query="the vGPU profiles the VM's host offers")
    p.add_argument("--profile", nargs="+", metavar="PROFILE",
                   help="vGPU profile(s), e.g. grid_p100-4q; several for several vGPUs of one board "
                        "(--profile grid_a100-3-20c grid_a100-3-20c)")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    if args.query:
        return query_vgpu(ctx.session(), targets)
    if not (args.add or args.remove):
        raise InputError("vgpu: give --query, or --add --profile P, or --remove [--profile P]")
    return change_vgpu(ctx.session(), targets, args.profile, add=args.add)
