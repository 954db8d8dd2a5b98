"""`vm_sched_affinity (--vm | --file) (--affinity SPEC | --clear)`: CPU scheduling affinity (VMs off)."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import affinity_or_clear, vm_or_file, vm_targets


def arguments(p) -> None:
    vm_or_file(p, "to change the scheduling affinity of (powered off)")
    affinity_or_clear(p, "Scheduling affinity", "logical CPUs")


def run(ctx, args):
    from vhpc_toolkit.ops.edits.vm_settings import set_cpu_affinity

    targets = vm_targets(args)
    return set_cpu_affinity(ctx.session(), targets, [] if args.clear else args.affinity)
