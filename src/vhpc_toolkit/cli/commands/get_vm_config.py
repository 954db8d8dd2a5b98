"""`get_vm_config (--vm | --file)`: the performance settings of each VM (a table, or JSON)."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import vm_or_file, vm_targets


def arguments(p) -> None:
    vm_or_file(p, "whose performance settings to show")


def run(ctx, args):
    from vhpc_toolkit.ops.edits.vm_config import get_vm_config

    targets = vm_targets(args)
    return get_vm_config(ctx.session(), targets)
