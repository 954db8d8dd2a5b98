"""Power on/off: a task per VM that needs it, waited on together."""
from __future__ import annotations

from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_batch
from vhpc_toolkit.ops.targets import read_targets
from vhpc_toolkit.results import UNCHANGED, Report, TargetResult

VM_PROPS = ["runtime.powerState"]


def set_power(session, targets, on: bool, concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> Report:
    _, vms = read_targets(session, targets, VM_PROPS, host_props=[])
    want = "poweredOn" if on else "poweredOff"
    results, jobs = [], []
    for obj in vms:
        state = obj.get("runtime.powerState")
        result = TargetResult(obj.name)
        results.append(result)
        if state == want:
            result.status, result.detail = UNCHANGED, f"already {want}"
            continue
        result.detail = f"{state} -> {want}"
        start = obj.ref.PowerOnVM_Task if on else obj.ref.PowerOffVM_Task
        jobs.append(Job(result=result, start=start))
    interrupted = run_batch(session, jobs, concurrency=concurrency, on_event=on_event)
    return Report("power on" if on else "power off", results, interrupted=interrupted)
