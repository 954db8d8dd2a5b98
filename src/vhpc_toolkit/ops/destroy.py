"""Destroying VMs: powered off first, then a Destroy_Task each, waited on together."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Interrupted, Job, run_jobs
from vhpc_toolkit.ops.targets import read_targets
from vhpc_toolkit.results import CHANGED, NOT_STARTED, Report, TargetResult

VM_PROPS = ["runtime.powerState"]


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


def destroy(session, targets, concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> Report:
    """`destroy (--vm | --file)`."""
    _, vms = read_targets(session, targets, VM_PROPS, host_props=[])
    doomed = [Doomed(o.ref, o.get("runtime.powerState") != "poweredOff", TargetResult(o.name, CHANGED))
              for o in vms]
    try:
        power_off_and_destroy(session, doomed, concurrency, on_event)
    except Interrupted:
        return Report("destroy", [d.result for d in doomed], done="destroyed", interrupted=True)
    return Report("destroy", [d.result for d in doomed], done="destroyed")
