"""`migrate_vm (--vm | --file) --destination HOST`: RelocateVM_Task per VM, checked first."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import vm_or_file, vm_targets
from vhpc_toolkit.output.progress import progress


def arguments(p) -> None:
    vm_or_file(p, "to migrate")
    p.add_argument("--destination", required=True,
                   help="The host to move the VM(s) to (a VM with DirectPath I/O or SR-IOV devices moves\\n"
                        "only powered off; a vGPU VM only to a host offering its profile)")


def run(ctx, args):
    from vhpc_toolkit.ops.vms.migrate import migrate_vms

    targets = vm_targets(args)
    with progress(ctx, "migrate", None) as event:
        return migrate_vms(ctx.session(), targets, args.destination, on_event=event)
