"""`destroy (--vm | --file)`: powered off first."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import vm_or_file, vm_targets
from vhpc_toolkit.ops.destroy import destroy
from vhpc_toolkit.output.progress import progress
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    vm_or_file(p, "to destroy")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    with progress(ctx, "destroy", None) as event:
        return destroy(ctx.session(), targets, on_event=event)
