"""Power on/off and destroy: a task per VM that needs it, waited on together."""
from __future__ import annotations

from vhpc_toolkit.ops.reconfigure import read_targets
from vhpc_toolkit.ops.results import FAILED, UNCHANGED, OperationReport, VMResult
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_jobs

VM_PROPS = ["runtime.powerState"]


def set_power(session, vm, file, on: bool, concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> OperationReport:
    _, vms = read_targets(session, vm, file, VM_PROPS, host_props=[])
    want = "poweredOn" if on else "poweredOff"
    results, jobs = [], []
    for obj in vms:
        state = obj.get("runtime.powerState")
        result = VMResult(obj.name)
        results.append(result)
        if state == want:
            result.status, result.detail = UNCHANGED, f"already {want}"
            continue
        result.detail = f"{state} -> {want}"
        start = obj.ref.PowerOnVM_Task if on else obj.ref.PowerOffVM_Task
        jobs.append(Job(result=result, start=start))
    run_jobs(session, jobs, concurrency=concurrency, on_event=on_event)
    return OperationReport("power on" if on else "power off", results)


def destroy(session, vm, file, concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> OperationReport:
    _, vms = read_targets(session, vm, file, VM_PROPS, host_props=[])
    results = {o.moid: VMResult(o.name, detail="destroyed") for o in vms}
    off_jobs = [Job(result=results[o.moid], start=o.ref.PowerOffVM_Task)
                for o in vms if o.get("runtime.powerState") != "poweredOff"]
    run_jobs(session, off_jobs, concurrency=concurrency)
    for job in off_jobs:
        if job.result.status == FAILED:
            job.result.detail = f"power off failed: {job.result.detail}"
    was_on = {o.moid for o in vms if o.get("runtime.powerState") != "poweredOff"}
    gone = []
    for o in vms:
        if results[o.moid].status != FAILED:
            results[o.moid].detail = "powered off and destroyed" if o.moid in was_on else "destroyed"
            gone.append(Job(result=results[o.moid], start=o.ref.Destroy_Task))
    run_jobs(session, gone, concurrency=concurrency, on_event=on_event)
    return OperationReport("destroy", list(results.values()), done="destroyed")
