"""`sriov [--query] [(--add | --remove) --sriov_port_group PG --pf ID] [--dvs_name D]`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import add_remove, vm_or_file
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices.sriov import change_sriov, query_sriov
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    vm_or_file(p, "for the SR-IOV operation")
    p.add_argument("--query", action="store_true", help="List SR-IOV physical functions of the VM's host")
    add_remove(p, "an SR-IOV adapter", required=False)
    p.add_argument("--sriov_port_group", help="Port group of the SR-IOV adapter")
    p.add_argument("--dvs_name", help="Distributed switch of the port group (if distributed)")
    p.add_argument("--pf", help="PCI id of the backing physical function, e.g. 0000:af:00.0")


def run(ctx, args) -> Report:
    if args.query:
        return query_sriov(ctx.session(), args.vm, args.file)
    if not (args.add or args.remove):
        raise InputError("sriov: give --query, or --add/--remove with --sriov_port_group PG --pf ID")
    return change_sriov(ctx.session(), args.vm, args.file, args.sriov_port_group, args.pf, add=args.add,
                        dvs_name=args.dvs_name)
