"""`pvrdma (--add | --remove) --pvrdma_port_group PG [--dvs_name D]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import add_remove, vm_or_file, vm_targets
from vhpc_toolkit.ops.devices.pvrdma import change_pvrdma
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    vm_or_file(p, "for the PVRDMA operation")
    add_remove(p, "a PVRDMA adapter", required=True)
    p.add_argument("--pvrdma_port_group", required=True, help="Distributed port group of the adapter")
    p.add_argument("--dvs_name", help="Distributed switch of the port group")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    return change_pvrdma(ctx.session(), targets, args.pvrdma_port_group, add=args.add,
                         dvs_name=args.dvs_name)
