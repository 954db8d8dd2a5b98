"""`cpumem`: vCPUs, memory, shares, full reservations; only what differs is sent."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import bool_word, vm_or_file
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.reconfigure import reconfigure
from vhpc_toolkit.results import Report
from vhpc_toolkit.specs.compute import VM_PROPS, ComputeRequest, apply_compute


def arguments(p) -> None:
    vm_or_file(p, "to reconfigure")
    p.add_argument("--memory", type=float, help="New memory (in GB)")
    p.add_argument("--cpu", type=int, help="New number of vCPUs")
    p.add_argument("--cpu_shares", type=int, help="CPU shares")
    p.add_argument("--memory_shares", type=int, help="Memory shares")
    p.add_argument("--cpu_reservation", type=bool_word, metavar="yes/no",
                   help="Reserve all CPU (vCPUs x host MHz per core)")
    p.add_argument("--memory_reservation", type=bool_word, metavar="yes/no",
                   help="Reserve all memory (locked to max)")


def run(ctx, args) -> Report:
    req = ComputeRequest(cpu=args.cpu, memory_gb=args.memory, cpu_shares=args.cpu_shares,
                         memory_shares=args.memory_shares, cpu_reservation=args.cpu_reservation,
                         memory_reservation=args.memory_reservation)
    if req.is_empty():
        raise InputError("cpumem: nothing to change; give --cpu, --memory, --cpu_shares, --memory_shares, "
                         "--cpu_reservation or --memory_reservation")
    for flag, value in (("--cpu", req.cpu), ("--memory", req.memory_gb), ("--cpu_shares", req.cpu_shares),
                        ("--memory_shares", req.memory_shares)):
        if value is not None and value <= 0:
            raise InputError(f"cpumem: {flag} must be positive, not {value}")

    def build(spec, vm, host):
        return apply_compute(spec, vm.props, req, host.get("summary.hardware.cpuMhz") if host else None)

    return reconfigure(ctx.session(), "cpumem", args.vm, args.file, VM_PROPS, build)
