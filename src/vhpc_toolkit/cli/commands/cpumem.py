"""`cpumem`: vCPUs, memory, shares, full reservations; only what differs is sent."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import bool_word, memory_gb, shares, vcpus, vm_or_file, vm_targets
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.edits.reconfigure import reconfigure
from vhpc_toolkit.results import Report
from vhpc_toolkit.specs.compute import VM_PROPS, ComputeRequest, apply_compute


def arguments(p) -> None:
    vm_or_file(p, "to reconfigure")
    p.add_argument("--memory", type=memory_gb, help="New memory (in GB)")
    p.add_argument("--cpu", type=vcpus, help="New number of vCPUs")
    p.add_argument("--cpu_shares", type=shares, help="CPU shares")
    p.add_argument("--cores_per_socket", type=vcpus, help="Cores per socket (must divide the vCPUs; VM powered off)")
    p.add_argument("--memory_shares", type=shares, help="Memory shares")
    p.add_argument("--cpu_reservation", type=bool_word, metavar="yes/no",
                   help="Reserve all CPU (vCPUs x host MHz per core)")
    p.add_argument("--memory_reservation", type=bool_word, metavar="yes/no",
                   help="Reserve all memory (locked to max)")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    req = ComputeRequest(cpu=args.cpu, memory_gb=args.memory, cpu_shares=args.cpu_shares,
                         memory_shares=args.memory_shares, cpu_reservation=args.cpu_reservation,
                         memory_reservation=args.memory_reservation, cores_per_socket=args.cores_per_socket)
    if req.is_empty():
        raise InputError("cpumem: nothing to change; give --cpu, --memory, --cpu_shares, --cores_per_socket, "
                         "--memory_shares, --cpu_reservation or --memory_reservation")

    def build(spec, vm, host):
        return apply_compute(spec, vm.props, req, host.get("summary.hardware.cpuMhz") if host else None)

    return reconfigure(ctx.session(), "cpumem", targets, VM_PROPS, build)
