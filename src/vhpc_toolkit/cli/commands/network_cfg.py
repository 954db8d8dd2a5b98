"""`network_cfg --port_group PG (--is_dhcp | --ip --netmask --gateway) [--dns] [--domain] [--guest_hostname]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import positive, vm_or_file, vm_targets
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.edits.adapters import configure_guest_network
from vhpc_toolkit.results import Report
from vhpc_toolkit.specs.customization import BadNetworkValue, GuestNetwork


def arguments(p) -> None:
    vm_or_file(p, "to configure")
    p.add_argument("--port_group", required=True, help="Port group of the adapter to configure")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--is_dhcp", action="store_true", help="Use DHCP")
    group.add_argument("--ip", help="Static IPv4 address")
    p.add_argument("--netmask", help="Netmask (static IP)")
    p.add_argument("--gateway", help="Gateway (static IP)")
    p.add_argument("--dns", nargs="+", help="DNS server(s)")
    p.add_argument("--domain", help="Domain name")
    p.add_argument("--guest_hostname", help="Guest host name (default: the VM name)")
    p.add_argument("--power-on", action="store_true",
                   help="Power the VM(s) on (the guest applies the customization at boot) and wait for\n"
                        "each one's outcome as vCenter reports it (CustomizationSucceeded / CustomizationFailed)")
    p.add_argument("--ip-timeout", type=positive, default=300, metavar="SECONDS",
                   help="--power-on: how long to wait, overall, for the customizations (default: %(default)s)")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    net = GuestNetwork(hostname=args.guest_hostname or "placeholder", is_dhcp=args.is_dhcp, ip=args.ip,
                       netmask=args.netmask, gateway=args.gateway, dns=tuple(args.dns or ()),
                       domain=args.domain)
    try:
        net.validated()  # every value checked before vCenter is contacted
    except BadNetworkValue as exc:
        raise InputError(f"network_cfg: {exc}") from None
    return configure_guest_network(ctx.session(), targets, args.port_group, net,
                                   hostname_given=bool(args.guest_hostname), power_on=args.power_on,
                                   ip_timeout=args.ip_timeout)
