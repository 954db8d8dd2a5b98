"""`power (--on | --off) (--vm | --file)`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import vm_or_file, vm_targets
from vhpc_toolkit.ops.vms.power import set_power
from vhpc_toolkit.output.progress import progress
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    vm_or_file(p, "to power on or off")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--on", action="store_true", help="Power on")
    group.add_argument("--off", action="store_true", help="Power off")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    with progress(ctx, "power " + ("on" if args.on else "off"), None) as event:
        return set_power(ctx.session(), targets, on=args.on, on_event=event)
