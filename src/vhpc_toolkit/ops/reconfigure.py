"""The shape every reconfigure command shares: read once, plan every VM, one spec per VM."""
from __future__ import annotations

from typing import Callable, Iterable

from vhpc_toolkit.errors import ValidationFailed
from vhpc_toolkit.ops.results import UNCHANGED, OperationReport, VMResult
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_jobs
from vhpc_toolkit.ops.targets import resolve_vms, target_names
from vhpc_toolkit.specs import Change
from vhpc_toolkit.vsphere.inventory import Obj, Snapshot, read_inventory

HOST_PROPS = ["summary.hardware.cpuMhz"]

# build(spec, vm, host) fills the ConfigSpec and returns the changes; it raises
# ValueError (or a subclass) when the VM cannot be given what was asked.
Builder = Callable[[object, Obj, Obj | None], list[Change]]


def read_targets(session, vm: str | None, file: str | None, vm_props: Iterable[str],
                 host_props: Iterable[str] = HOST_PROPS,
                 more: dict[str, list[str]] | None = None) -> tuple[Snapshot, list[Obj]]:
    """One inventory read with everything the command needs, and the named VMs in it."""
    names = target_names(vm, file)
    props = {"VirtualMachine": sorted(set(vm_props) | {"runtime.host"}),
             "HostSystem": sorted(set(host_props))}
    props.update(more or {})
    snap = read_inventory(session, props)
    return snap, resolve_vms(snap, names)


def host_of(snap: Snapshot, vm: Obj) -> Obj | None:
    return snap.by_ref(vm.get("runtime.host"))


def plan_specs(snap: Snapshot, vms: list[Obj], build: Builder) -> list[tuple[Obj, object, VMResult]]:
    """Build each VM's spec; any VM that cannot be served stops everything before a change."""
    from pyVmomi import vim

    planned, problems = [], []
    for vm in vms:
        spec = vim.vm.ConfigSpec()
        try:
            changes = build(spec, vm, host_of(snap, vm))
        except ValueError as exc:
            problems.append(f"VM {vm.name}: {exc}")
            continue
        planned.append((vm, spec if changes else None, VMResult(vm.name, UNCHANGED, changes=changes)))
    if problems:
        raise ValidationFailed(problems + ["nothing was changed"])
    return planned


def apply_specs(session, operation: str, planned, concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> OperationReport:
    jobs = []
    for vm, spec, result in planned:
        if spec is None:
            result.detail = "already as asked"
            continue
        result.detail = "; ".join(str(c) for c in result.changes)
        jobs.append(Job(result=result, start=lambda vm=vm, spec=spec: vm.ref.ReconfigVM_Task(spec=spec)))
    run_jobs(session, jobs, concurrency=concurrency, on_event=on_event)
    return OperationReport(operation, [r for _, _, r in planned])


def reconfigure(session, operation: str, vm: str | None, file: str | None, vm_props: Iterable[str],
                build: Builder, concurrency: int = DEFAULT_CONCURRENCY, on_event=None, **read_kw) -> OperationReport:
    snap, vms = read_targets(session, vm, file, vm_props, **read_kw)
    return apply_specs(session, operation, plan_specs(snap, vms, build), concurrency, on_event)
