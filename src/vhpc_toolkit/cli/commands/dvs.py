"""`dvs (--create | --destroy) --name N --host H... --pnic NIC... --port_group PG [--datacenter D]
[--pvrdma [--vmk_ip IP... --vmk_netmask MASK]]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import create_destroy, ipv4, mtu, netmask, positive
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.limits import MAX_MTU, MIN_MTU
from vhpc_toolkit.ops.networks.distributed import create_dvs, destroy_dvs
from vhpc_toolkit.results import Report
from vhpc_toolkit.words import count


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
    p.add_argument("--vmk_ip", type=ipv4, nargs="+", metavar="IP",
                   help="--create --pvrdma: static addresses of the VMkernel adapters, one per --host in order "
                        "(a fabric without DHCP; default: DHCP)")
    p.add_argument("--vmk_netmask", type=netmask, metavar="MASK", help="--create --pvrdma: netmask of --vmk_ip")
    p.add_argument("--mtu", type=mtu, help=f"Maximum MTU of the switch in bytes ({MIN_MTU} to {MAX_MTU}; default 1500)")


def run(ctx, args) -> Report:
    if args.create:
        addresses = vmk_addresses(args)   # bad input is refused before connecting
        return create_dvs(ctx.session(), args.name, args.host, args.pnic, args.port_group,
                          datacenter=args.datacenter, pvrdma=args.pvrdma, fixed_ports=args.fixed_ports, mtu=args.mtu,
                          vmk_addresses=addresses)
    if args.fixed_ports or args.pvrdma or args.mtu or args.vmk_ip or args.vmk_netmask:
        raise InputError("dvs --destroy takes no --fixed_ports, --pvrdma, --mtu, --vmk_ip or --vmk_netmask "
                         "(the preparation is undone anyway)")
    return destroy_dvs(ctx.session(), args.name, datacenter=args.datacenter)   # --force changes nothing


def vmk_addresses(args) -> dict[str, tuple[str, str]] | None:
    """Host name -> (ip, netmask) from --vmk_ip/--vmk_netmask (None: DHCP)."""
    if not args.vmk_ip and not args.vmk_netmask:
        return None
    if not args.pvrdma:
        raise InputError("--vmk_ip and --vmk_netmask address the PVRDMA VMkernel adapters: give --pvrdma")
    if not args.vmk_ip or not args.vmk_netmask:
        raise InputError("give --vmk_ip and --vmk_netmask together (static addresses of the VMkernel adapters)")
    hosts = list(dict.fromkeys(args.host or []))
    if len(args.vmk_ip) != len(hosts):
        raise InputError(f"{count(len(hosts), 'host')} but {len(args.vmk_ip)} --vmk_ip: give one address per --host, in order")
    if len(set(args.vmk_ip)) != len(args.vmk_ip):
        raise InputError("--vmk_ip gives an address twice: each host's adapter needs its own")
    return {h: (ip, args.vmk_netmask) for h, ip in zip(hosts, args.vmk_ip)}
