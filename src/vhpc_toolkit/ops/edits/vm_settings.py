"""The original's per-VM settings commands: secure boot, CPU scheduling affinity, NUMA node affinity.

One read, every VM planned (any VM that cannot be served stops everything before a change), one
ReconfigVM_Task per VM that needs one (ops/edits/reconfigure.py).
"""
from __future__ import annotations

from vhpc_toolkit.ops.edits.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.ops.vms.targets import read_targets
from vhpc_toolkit.results import Report
from vhpc_toolkit.specs import tuning
from vhpc_toolkit.words import count

TOPOLOGY = ["hardware.cpuInfo.numCpuThreads", "hardware.numaInfo.numNodes"]


def set_secure_boot(session, targets, on: bool) -> Report:
    """EFI secure boot on or off; a BIOS VM asked to turn it on, or a running VM, stops everything."""
    inv, vms = read_targets(session, targets, tuning.VM_PROPS, host_props=[])
    planned = plan_specs(inv, vms, lambda spec, vm, host: tuning.apply_secure_boot(spec, vm.props, on))
    return apply_specs(session, f"secure_boot {'on' if on else 'off'}", planned,
                       unchanged=f"secure boot already {'on' if on else 'off'}")


def set_cpu_affinity(session, targets, cpus: list[int]) -> Report:
    """Scheduling affinity to ``cpus`` (empty: cleared); VMs off, CPUs of their hosts."""
    inv, vms = read_targets(session, targets, tuning.VM_PROPS, host_props=TOPOLOGY)

    def build(spec, vm, host):
        threads = host.get("hardware.cpuInfo.numCpuThreads") if host else None
        return tuning.apply_cpu_affinity(spec, vm.props, cpus, threads)

    planned = plan_specs(inv, vms, build)
    for vm, spec, result in planned:
        vcpus = vm.get("config.hardware.numCPU") or 0
        if spec is not None and cpus and len(cpus) < vcpus:
            result.data["warnings"] = [f"VM {vm.name} has {count(vcpus, 'vCPU')} but an affinity of "
                                       f"{count(len(cpus), 'logical CPU')}: its vCPUs will share them"]
    what = tuning.format_affinity(cpus) if cpus else "cleared"
    return apply_specs(session, "vm_sched_affinity " + ("clear" if not cpus else what), planned,
                       unchanged=f"scheduling affinity already {what}")


def set_numa_affinity(session, targets, nodes: list[int]) -> Report:
    """``numa.nodeAffinity`` to ``nodes`` (empty: removed); VMs off, nodes of their hosts."""
    inv, vms = read_targets(session, targets, tuning.VM_PROPS, host_props=TOPOLOGY)

    def build(spec, vm, host):
        numa = host.get("hardware.numaInfo.numNodes") if host else None
        return tuning.apply_numa_affinity(spec, vm.props, nodes, numa)

    what = tuning.format_affinity(nodes) if nodes else "cleared"
    return apply_specs(session, "numa_affinity " + ("clear" if not nodes else what), plan_specs(inv, vms, build),
                       unchanged=f"NUMA node affinity already {what}")
