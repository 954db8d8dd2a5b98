"""`dvs (--create | --destroy) --name N --host H... --pnic NIC... --port_group PG [--datacenter D]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import create_destroy, mtu
from vhpc_toolkit.limits import MAX_MTU, MIN_MTU
from vhpc_toolkit.ops.switches import create_dvs, destroy_dvs
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    create_destroy(p, "the switch (and its port group)")
    p.add_argument("--name", required=True, help="Name of the distributed switch")
    p.add_argument("--datacenter", help="Datacenter of the switch (all hosts must be in it)")
    p.add_argument("--host", nargs="+", help="Member ESXi host(s)")
    p.add_argument("--pnic", nargs="+", help="Uplink physical NIC(s) on each host, e.g. vmnic5")
    p.add_argument("--port_group", help="Distributed port group to create")
    p.add_argument("--mtu", type=mtu, help=f"Maximum MTU of the switch in bytes ({MIN_MTU} to {MAX_MTU}; default 1500)")


def run(ctx, args) -> Report:
    if args.create:
        return create_dvs(ctx.session(), args.name, args.host, args.pnic, args.port_group,
                          datacenter=args.datacenter, mtu=args.mtu)
    return destroy_dvs(ctx.session(), args.name, datacenter=args.datacenter)
