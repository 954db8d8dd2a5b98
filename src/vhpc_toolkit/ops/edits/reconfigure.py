"""The shape every reconfigure command shares: read once, plan every VM, one spec per VM, and one read
after the tasks to check that vCenter holds what was asked."""
from __future__ import annotations

from typing import Callable, Iterable

from vhpc_toolkit.errors import refuse_problems
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_batch
from vhpc_toolkit.ops.vms.targets import host_of, read_targets
from vhpc_toolkit.results import CHANGED, FAILED, UNCHANGED, Report, TargetResult
from vhpc_toolkit.specs import Change
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_objects

# build(spec, vm, host) fills the ConfigSpec and returns the changes; it raises
# ValueError (or a subclass) when the VM cannot be given what was asked.
Builder = Callable[[object, Obj, Obj | None], list[Change]]


class Planned(list):
    """(vm, spec or None, result) per VM, with what planned them: the inventory and the builder,
    so the VMs can be checked after the tasks with the same builder."""

    def __init__(self, items, inv: Inventory, build: Builder):
        super().__init__(items)
        self.inv, self.build = inv, build


def plan_specs(inv: Inventory, vms: list[Obj], build: Builder) -> Planned:
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
    refuse_problems(problems)
    return Planned(planned, inv, build)


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
    if isinstance(planned, Planned):
        check_applied(session, planned)
    return Report(operation, [r for _, _, r in planned], interrupted=interrupted)


def check_applied(session, planned: Planned) -> None:
    """Read the reconfigured VMs back in one call and plan them again with the same builder: what would
    still change is what vCenter did not apply although its task succeeded; that VM fails."""
    from pyVmomi import vim

    done = [(vm, r) for vm, spec, r in planned if spec is not None and r.status == CHANGED]
    if not done:
        return
    paths = planned.inv.asked.get("VirtualMachine") or sorted({p for vm, _ in done for p in vm.props})
    now = read_objects(session, [vm.ref for vm, _ in done], paths)
    for vm, result in done:
        fresh = now.get(vm.moid)
        if fresh is None:
            result.status, result.detail = FAILED, "the VM is gone after its reconfiguration"
            continue
        try:
            left = planned.build(vim.vm.ConfigSpec(), fresh, host_of(planned.inv, fresh))
        except ValueError as exc:
            left = [f"cannot be checked: {exc}"]
        if left:
            result.status = FAILED
            result.detail = (f"vCenter reported the task done, but the VM does not have it: "
                             f"{'; '.join(str(c) for c in left)} still to change")


def reconfigure(session, operation: str, targets: list[tuple[str, str]], vm_props: Iterable[str],
                build: Builder, concurrency: int = DEFAULT_CONCURRENCY, on_event=None, **read_kw) -> Report:
    inv, vms = read_targets(session, targets, vm_props, **read_kw)
    return apply_specs(session, operation, plan_specs(inv, vms, build), concurrency, on_event)
