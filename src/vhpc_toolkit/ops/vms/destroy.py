"""Destroying VMs: powered off first, then a Destroy_Task each, waited on together.

Templates are destroyed only when asked for (``include_templates``). Ctrl-C asks vCenter
to cancel what is in flight and marks the report interrupted; every row then says
whether its VM still exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from vhpc_toolkit.errors import ConnectionFailed, ValidationFailed
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Interrupted, Job, run_jobs
from vhpc_toolkit.ops.vms.targets import read_targets
from vhpc_toolkit.results import CHANGED, FAILED, NOT_STARTED, Report, TargetResult

VM_PROPS = ["runtime.powerState", "config.template"]


@dataclass
class Doomed:
    """A VM to destroy: its reference, whether it runs, and the result to fill."""

    ref: Any
    powered_on: bool
    result: TargetResult


def power_off_and_destroy(session, doomed: list[Doomed], concurrency: int = DEFAULT_CONCURRENCY,
                          on_event: Callable[[TargetResult], None] | None = None) -> None:
    """Power off what runs, then destroy every VM whose power-off did not fail.

    Each result ends CHANGED with "destroyed" (or "powered off and destroyed"), or FAILED saying which step.
    Ctrl-C raises Interrupted after the rows in flight are marked.
    """
    off = [Job(result=d.result, start=d.ref.PowerOffVM_Task) for d in doomed if d.powered_on]
    try:
        run_jobs(session, off, concurrency=concurrency)
    except Interrupted:
        for d in doomed:   # none was destroyed; never report them as done
            if not d.result.failed:
                d.result.status, d.result.detail = NOT_STARTED, "not started: the run was interrupted"
        raise
    for job in off:
        if job.result.failed:
            job.result.detail = f"power off failed: {job.result.detail}"
            if on_event:
                on_event(job.result)
    gone = []
    for d in doomed:
        if not d.result.failed:
            d.result.detail = "powered off and destroyed" if d.powered_on else "destroyed"
            gone.append(Job(result=d.result, start=d.ref.Destroy_Task))
    run_jobs(session, gone, concurrency=concurrency, on_event=on_event)
    for job in gone:
        if job.result.failed:
            job.result.detail = f"destroy failed: {job.result.detail}"


def settle_interrupted(session, doomed: list[Doomed], reason: str = "interrupted") -> None:
    """After Ctrl-C or a lost connection: each row says whether its VM still exists (one inventory
    read: a property read naming a VM that is gone is refused with ManagedObjectNotFound)."""
    from vhpc_toolkit.vsphere.inventory import read_inventory

    try:
        if not getattr(session, "answering", True):
            raise ConnectionError("vCenter stopped answering")   # each read would wait the timeout again
        left = {o.moid: o for o in read_inventory(session, {"VirtualMachine": ["runtime.powerState"]})
                .of_type("VirtualMachine")} if doomed else {}
    except Exception:   # vCenter unreachable: say so rather than guess
        for d in doomed:
            d.result.status, d.result.detail = FAILED, f"{reason}; unknown whether it still exists"
        return
    for d in doomed:
        obj = left.get(d.ref._moId)
        if obj is None:
            d.result.status = CHANGED
            d.result.detail = "powered off and destroyed" if d.powered_on else "destroyed"
        else:
            d.result.status = FAILED
            d.result.detail = f"{reason}; the VM still exists ({obj.get('runtime.powerState')})"


def plan_vm_destroy(session, targets, include_templates: bool = False) -> list[Doomed]:
    """The named VMs, read in one go; templates refused (every one named) unless asked for."""
    _, vms = read_targets(session, targets, VM_PROPS, host_props=[])
    templates = [o.name for o in vms if o.get("config.template")]
    if templates and not include_templates:
        raise ValidationFailed([f"{name} is a template; templates are destroyed only with --include-templates"
                                for name in templates])
    return [Doomed(o.ref, o.get("runtime.powerState") != "poweredOff", TargetResult(o.name, CHANGED))
            for o in vms]


def destroy_vms(session, doomed: list[Doomed], concurrency: int = DEFAULT_CONCURRENCY,
                on_event=None, operation: str = "destroy") -> Report:
    """Destroy what ``plan_vm_destroy`` found; Ctrl-C gives an interrupted report of what exists."""
    report = Report(operation, [d.result for d in doomed], done="destroyed", unchanged="already absent")
    try:
        power_off_and_destroy(session, doomed, concurrency, on_event)
    except (Interrupted, KeyboardInterrupt):
        report.interrupted = True
        settle_interrupted(session, doomed)
    except ConnectionFailed as exc:   # the connection or session is gone: say what is known
        settle_interrupted(session, doomed, reason=str(exc))
    return report


def destroy(session, targets, concurrency: int = DEFAULT_CONCURRENCY, on_event=None,
            include_templates: bool = False) -> Report:
    """`destroy (--vm | --file)` without a confirmation (the CLI asks between the two steps)."""
    return destroy_vms(session, plan_vm_destroy(session, targets, include_templates), concurrency, on_event)
