"""`dvs (--create | --destroy) --name N --host H... --pnic NIC... --port_group PG [--datacenter D] [--pvrdma]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import create_destroy, mtu, positive
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.limits import MAX_MTU, MIN_MTU
from vhpc_toolkit.ops.dvs import create_dvs, destroy_dvs
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    create_destroy(p, "the switch (and its port group)")
    p.add_argument("--force", action="store_true",
                   help="--destroy: accepted for older scripts; a switch that VMkernel or VM adapters use is "
                        "refused all the same (vCenter does not remove it): move them off first")
    p.add_argument("--name", required=True, help="Name of the distributed switch")
    p.add_argument("--datacenter", help="Datacenter of the switch (all hosts must be in it)")
    p.add_argument("--host", nargs="+", help="Member ESXi host(s)")
    p.add_argument("--pnic", nargs="+", help="Uplink physical NIC(s) on each host, e.g. vmnic5")
    p.add_argument("--port_group", help="Distributed port group to create (elastic: it grows as VMs connect)")
    p.add_argument("--fixed_ports", type=positive, metavar="N",
                   help="--create: give the port group N fixed ports instead of elastic ones")
    p.add_argument("--pvrdma", action="store_true",
                   help="--create: prepare the member hosts for PVRDMA (a VMkernel adapter on the switch tagged "
                        "Net.PVRDMAVmknic, the pvrdma firewall ruleset); --destroy undoes it in any case")
    p.add_argument("--mtu", type=mtu, help=f"Maximum MTU of the switch in bytes ({MIN_MTU} to {MAX_MTU}; default 1500)")


def run(ctx, args) -> Report:
    if args.create:
        return create_dvs(ctx.session(), args.name, args.host, args.pnic, args.port_group,
                          datacenter=args.datacenter, pvrdma=args.pvrdma, fixed_ports=args.fixed_ports, mtu=args.mtu)
    if args.fixed_ports or args.pvrdma or args.mtu:
        raise InputError("dvs --destroy takes no --fixed_ports, --pvrdma or --mtu (the preparation is undone anyway)")
    return destroy_dvs(ctx.session(), args.name, datacenter=args.datacenter, force=args.force)
