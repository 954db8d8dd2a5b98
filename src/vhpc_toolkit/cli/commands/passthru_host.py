"""`passthru_host (--host | --file) --device ID (--on | --off)`: a host PCI device available for passthrough."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import host_or_file, on_off


def arguments(p) -> None:
    host_or_file(p, "on which to enable/disable the device")
    p.add_argument("--device", required=True, help="PCI id of the device, e.g. 0000:3b:00.0")
    on_off(p, "Enable the device for passthrough", "Disable it (not while a powered-on VM uses it)")


def run(ctx, args):
    from vhpc_toolkit.ops.hosts.settings import host_names, set_host_passthrough

    names = host_names(args.host, args.file)
    return set_host_passthrough(ctx.session(), names, args.device, on=args.on)
