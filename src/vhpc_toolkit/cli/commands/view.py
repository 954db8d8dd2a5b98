"""`view [--networking]`: the inventory tree."""
from __future__ import annotations

from vhpc_toolkit.output.inventory import render_inventory
from vhpc_toolkit.output.jsonout import print_json
from vhpc_toolkit.vsphere.overview import read_overview


def run(ctx, args) -> int:
    doc = read_overview(ctx.session(), networking=args.networking)
    if ctx.output == "json":
        print_json(doc, ctx.out)
    else:
        render_inventory(doc, ctx.out)
    return 0
