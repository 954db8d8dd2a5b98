"""`latency (--level high|normal | --check)`."""
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.reconfigure import read_targets, reconfigure
from vhpc_toolkit.ops.results import OperationReport, VMResult
from vhpc_toolkit.output.report import render_report
from vhpc_toolkit.specs import compute, latency


def run(ctx, args) -> int:
    if not args.level and not args.check:
        raise InputError("latency: give --level high|normal or --check")
    if args.check:
        _, vms = read_targets(ctx.session(), args.vm, args.file, latency.VM_PROPS, host_props=[])
        report = OperationReport("latency sensitivity", [
            VMResult(vm.name, detail=latency.current_level(vm.props), data={"level": latency.current_level(vm.props)})
            for vm in vms])
        return render_report(report, ctx)

    def build(spec, vm, host):
        return latency.apply_latency(spec, vm.props, args.level, host.get("summary.hardware.cpuMhz") if host else None)

    report = reconfigure(ctx.session(), f"latency {args.level}", args.vm, args.file,
                         latency.VM_PROPS + compute.VM_PROPS, build)
    return render_report(report, ctx)
