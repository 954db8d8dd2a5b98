"""`passthru [--query] [(--add | --remove) --device ID...] [--mmio_size GB]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import add_remove, hardware_version, vm_or_file, vm_targets
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices.passthrough import change_passthrough, query_passthrough
from vhpc_toolkit.results import Report
from vhpc_toolkit.specs.devices.passthrough import DEFAULT_MMIO_GB


def arguments(p) -> None:
    vm_or_file(p, "for the passthrough operation")
    add_remove(p, "device(s)", required=False,
               query="the passthrough devices the VM's host offers")
    p.add_argument("--device", nargs="+", help="PCI id(s) of the device(s), e.g. 0000:3b:00.0")
    p.add_argument("--mmio_size", type=int, default=DEFAULT_MMIO_GB,
                   help="64-bit MMIO size in GB, a power of two (default: %(default)s)")
    p.add_argument("--dynamic", action="store_true",
                   help="Dynamic DirectPath I/O: each --device stands for its device type (vendor and\n"
                        "device id); vSphere picks a free device of that type at power-on; it needs virtual\n"
                        "hardware version 17 (vSphere 7.0)")
    p.add_argument("--hardware_version", type=hardware_version, metavar="N",
                   help="--dynamic --add: first upgrade VMs older than vmx-N (UpgradeVM_Task, the VM powered off;\n"
                        "N no newer than the host's ESXi runs: 17 for ESXi 7.0)")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    if args.query:
        return query_passthrough(ctx.session(), targets)
    if not (args.add or args.remove):
        raise InputError("passthru: give --query, or --add/--remove with --device ID...")
    return change_passthrough(ctx.session(), targets, args.device, add=args.add,
                              mmio_size=args.mmio_size, dynamic=args.dynamic, hardware_version=args.hardware_version)
