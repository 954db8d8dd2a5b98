"""`sriov [--query] [(--add | --remove) --sriov_port_group PG --pf ID] [--dvs_name D]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import add_remove, bool_word, vm_or_file, vm_targets
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices.sriov import change_sriov, query_sriov
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    vm_or_file(p, "for the SR-IOV operation")
    add_remove(p, "an SR-IOV adapter", required=False,
               query="SR-IOV physical functions of the VM's host")
    p.add_argument("--sriov_port_group", help="Port group of the SR-IOV adapter")
    p.add_argument("--dvs_name", "--sriov_dvs_name", dest="dvs_name",
                   help="Distributed switch of the port group (if distributed); --sriov_dvs_name as in 1.0.3")
    p.add_argument("--allow_guest_mtu_change", nargs="?", const=True, type=bool_word, metavar="yes/no",
                   help="Let the guest change the adapter's MTU (default: yes)")
    p.add_argument("--pf", help="PCI id of the backing physical function, e.g. 0000:af:00.0")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    if args.query:
        return query_sriov(ctx.session(), targets)
    if not (args.add or args.remove):
        raise InputError("sriov: give --query, or --add/--remove with --sriov_port_group PG --pf ID")
    return change_sriov(ctx.session(), targets, args.sriov_port_group, args.pf, add=args.add,
                        dvs_name=args.dvs_name, allow_guest_mtu_change=args.allow_guest_mtu_change)
