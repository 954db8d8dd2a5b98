"""`network_cfg --port_group PG (--is_dhcp | --ip --netmask --gateway) [--dns] [--domain] [--guest_hostname]`."""
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.network import configure_guest_network
from vhpc_toolkit.output.report import render_report
from vhpc_toolkit.specs.customization import BadNetworkValue, GuestNetwork


def run(ctx, args) -> int:
    net = GuestNetwork(hostname=args.guest_hostname or "placeholder", is_dhcp=args.is_dhcp, ip=args.ip,
                       netmask=args.netmask, gateway=args.gateway, dns=tuple(args.dns or ()),
                       domain=args.domain)
    try:
        net.validated()  # every value checked before vCenter is contacted
    except BadNetworkValue as exc:
        raise InputError(f"network_cfg: {exc}") from None
    report = configure_guest_network(ctx.session(), args.vm, args.file, args.port_group, net,
                                     hostname_given=bool(args.guest_hostname))
    return render_report(report, ctx)
