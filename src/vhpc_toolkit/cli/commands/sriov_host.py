"""`sriov_host (--host | --file) --device PF (--on [--num_func N] | --off)`: SR-IOV of a physical function."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import host_or_file, on_off, positive


def arguments(p) -> None:
    host_or_file(p, "on which to change SR-IOV")
    p.add_argument("--device", required=True, help="PCI id of the SR-IOV physical function, e.g. 0000:af:00.0")
    on_off(p, "Turn SR-IOV on", "Turn SR-IOV off (not while powered-on VMs use its virtual functions)")
    p.add_argument("--num_func", type=positive, metavar="N",
                   help="Virtual functions with --on, at most what the device supports\\n"
                        "(default: as now, else the device's maximum); ignored with --off")


def run(ctx, args):
    from vhpc_toolkit.ops.hosts.settings import host_names, set_host_sriov

    names = host_names(args.host, args.file)
    return set_host_sriov(ctx.session(), names, args.device, on=args.on, num_func=None if args.off else args.num_func)
