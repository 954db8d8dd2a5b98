"""`svs (--create | --destroy) --host H... --name N --pnic NIC --port_group PG`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import create_destroy, mtu
from vhpc_toolkit.limits import MAX_MTU, MIN_MTU
from vhpc_toolkit.ops.networks.standard import create_svs, destroy_svs
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    create_destroy(p, "the switch (and its port group)")
    p.add_argument("--force", action="store_true",
                   help="--destroy: destroy the switch on the hosts where nothing uses it, and leave it (reported "
                        "failed) where VMkernel or VM adapters do (ESXi does not remove it there)")
    p.add_argument("--host", required=True, nargs="+", help="ESXi host(s)")
    p.add_argument("--name", required=True, help="Name of the standard switch")
    p.add_argument("--pnic", help="Physical NIC uplink, e.g. vmnic4")
    p.add_argument("--port_group", help="Port group to create on the switch")
    p.add_argument("--mtu", type=mtu, help=f"MTU of the switch in bytes ({MIN_MTU} to {MAX_MTU}; default 1500)")


def run(ctx, args) -> Report:
    if args.create:
        return create_svs(ctx.session(), args.name, args.host, args.pnic, args.port_group, mtu=args.mtu)
    return destroy_svs(ctx.session(), args.name, args.host, force=args.force)
