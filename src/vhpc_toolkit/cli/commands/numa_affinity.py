"""`numa_affinity (--vm | --file) (--affinity SPEC | --clear)`: NUMA node affinity (VMs off)."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import affinity_or_clear, vm_or_file, vm_targets


def arguments(p) -> None:
    vm_or_file(p, "to change the NUMA node affinity of (powered off)")
    affinity_or_clear(p, "NUMA node affinity", "nodes")


def run(ctx, args):
    from vhpc_toolkit.ops.edits.vm_settings import set_numa_affinity

    targets = vm_targets(args)
    return set_numa_affinity(ctx.session(), targets, [] if args.clear else args.affinity)
