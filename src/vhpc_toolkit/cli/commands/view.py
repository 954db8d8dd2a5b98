"""`view [--networking]`: the inventory tree."""
from __future__ import annotations

from vhpc_toolkit.results import Document


def arguments(p) -> None:
    p.add_argument("--networking", action="store_true",
                   help="also show standard/distributed switches, port groups and VM adapters")


def run(ctx, args) -> Document:
    from vhpc_toolkit.cli.completion import remember_vm_names
    from vhpc_toolkit.vsphere.overview import read_overview, vm_names

    doc = read_overview(ctx.session(), networking=args.networking)
    remember_vm_names(vm_names(doc))
    return Document("view", doc)
