"""The shape every reconfigure command shares: read once, plan every VM, one spec per VM."""
from __future__ import annotations

from typing import Callable, Iterable

from vhpc_toolkit.errors import ValidationFailed
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_batch
from vhpc_toolkit.ops.targets import host_of, read_targets
from vhpc_toolkit.results import UNCHANGED, Report, TargetResult
from vhpc_toolkit.specs import Change
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

# build(spec, vm, host) fills the ConfigSpec and returns the changes; it raises
# ValueError (or a subclass) when the VM cannot be given what was asked.
Builder = Callable[[object, Obj, Obj | None], list[Change]]


def plan_specs(inv: Inventory, vms: list[Obj], build: Builder) -> list[tuple[Obj, object, TargetResult]]:
    """Build each VM's spec; any VM that cannot be served stops everything before a change."""
    from pyVmomi import vim

    planned, problems = [], []
    for vm in vms:
        spec = vim.vm.ConfigSpec()
        try:
            changes = build(spec, vm, host_of(inv, vm))
        except ValueError as exc:
            problems.append(f"VM {vm.name}: {exc}")
            continue
        planned.append((vm, spec if changes else None, TargetResult(vm.name, UNCHANGED, changes=changes)))
    if problems:
        raise ValidationFailed(problems)
    return planned


def apply_specs(session, operation: str, planned, concurrency: int = DEFAULT_CONCURRENCY,
                on_event=None, unchanged: str = "already as asked") -> Report:
    """One ReconfigVM_Task per VM whose spec changes something; ``unchanged`` describes the others."""
    jobs = []
    for vm, spec, result in planned:
        if spec is None:
            result.detail = unchanged
            continue
        result.detail = "; ".join(str(c) for c in result.changes)
        jobs.append(Job(result=result, start=lambda vm=vm, spec=spec: vm.ref.ReconfigVM_Task(spec=spec)))
    interrupted = run_batch(session, jobs, concurrency=concurrency, on_event=on_event)
    return Report(operation, [r for _, _, r in planned], interrupted=interrupted)


def reconfigure(session, operation: str, targets: list[tuple[str, str]], vm_props: Iterable[str],
                build: Builder, concurrency: int = DEFAULT_CONCURRENCY, on_event=None, **read_kw) -> Report:
    inv, vms = read_targets(session, targets, vm_props, **read_kw)
    return apply_specs(session, operation, plan_specs(inv, vms, build), concurrency, on_event)
