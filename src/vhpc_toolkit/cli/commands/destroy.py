"""`destroy (--vm | --file) [--include-templates]`: powered off first, after a confirmation."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import vm_or_file, vm_targets
from vhpc_toolkit.cli.prompt import can_ask, confirm
from vhpc_toolkit.ops.vms.destroy import destroy_vms, plan_vm_destroy
from vhpc_toolkit.output.progress import progress
from vhpc_toolkit.results import Report
from vhpc_toolkit.words import count


def arguments(p) -> None:
    vm_or_file(p, "to destroy")
    p.add_argument("--include-templates", action="store_true",
                   help="also destroy templates among the VMs named (refused otherwise)")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    can_ask(ctx)
    session = ctx.session()
    doomed = plan_vm_destroy(session, targets, include_templates=args.include_templates)
    names = [d.result.name for d in doomed]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    confirm(ctx, f"Destroy {count(len(names), 'VM')}: {shown}?")
    with progress(ctx, "destroy", None) as event:
        return destroy_vms(session, doomed, on_event=event)
