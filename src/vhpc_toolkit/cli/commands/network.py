"""`network (--add | --remove) --port_group PG...`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import add_remove, vm_or_file, vm_targets
from vhpc_toolkit.ops.edits.adapters import change_adapters
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    vm_or_file(p, "to change")
    add_remove(p, "a network adapter", required=True)
    p.add_argument("--port_group", required=True, nargs="+",
                   help="Port group(s) (standard or distributed) of the adapter(s)")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    return change_adapters(ctx.session(), targets, args.port_group, add=args.add)
