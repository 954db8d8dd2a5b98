"""`latency (--level high|normal | --check)`."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import vm_or_file, vm_targets
from vhpc_toolkit.ops.edits.reconfigure import reconfigure
from vhpc_toolkit.ops.vms.targets import read_targets
from vhpc_toolkit.results import Report, TargetResult
from vhpc_toolkit.specs import compute, latency


def arguments(p) -> None:
    vm_or_file(p, "to configure")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--level", choices=("high", "normal"), help="Latency sensitivity level")
    group.add_argument("--check", action="store_true", help="Print the current level")


def run(ctx, args) -> Report:
    targets = vm_targets(args)
    if args.check:
        _, vms = read_targets(ctx.session(), targets, latency.VM_PROPS, host_props=[])
        return Report("latency sensitivity", [
            TargetResult(vm.name, detail=latency.current_level(vm.props),
                         data={"level": latency.current_level(vm.props)}) for vm in vms])

    def build(spec, vm, host):
        return latency.apply_latency(spec, vm.props, args.level, host.get("summary.hardware.cpuMhz") if host else None)

    return reconfigure(ctx.session(), f"latency {args.level}", targets,
                       latency.VM_PROPS + compute.VM_PROPS, build)
