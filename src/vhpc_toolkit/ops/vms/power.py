"""Power on/off: a task per VM that needs it, waited on together, then one read of what vCenter holds."""
from __future__ import annotations

from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_batch
from vhpc_toolkit.ops.vms.targets import read_targets
from vhpc_toolkit.results import CHANGED, FAILED, UNCHANGED, Report, TargetResult
from vhpc_toolkit.vsphere.inventory import read_objects

VM_PROPS = ["runtime.powerState"]


def set_power(session, targets, on: bool, concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> Report:
    _, vms = read_targets(session, targets, VM_PROPS, host_props=[])
    want = "poweredOn" if on else "poweredOff"
    results, jobs, asked = [], [], []
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
        asked.append(obj)
    interrupted = run_batch(session, jobs, concurrency=concurrency, on_event=on_event)
    _check_power(session, [(obj, job.result) for obj, job in zip(asked, jobs) if job.result.status == CHANGED], want)
    return Report("power on" if on else "power off", results, interrupted=interrupted)


def _check_power(session, done, want: str) -> None:
    """One read of the VMs whose task succeeded: a VM not in the asked state fails (a task's success
    is not proof: vCenter is asked again what it holds)."""
    if not done:
        return
    now = read_objects(session, [obj.ref for obj, _ in done], VM_PROPS)
    for obj, result in done:
        state = now[obj.moid].get("runtime.powerState") if obj.moid in now else "gone"
        if state != want:
            result.status = FAILED
            result.detail = f"vCenter reported the task done, but the VM is {state} (asked {want})"
