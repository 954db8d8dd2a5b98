"""Writing step records (steps.py) onto VMs: one ReconfigVM_Task per VM whose record changed.

The spec carries only the one extraConfig key, so nothing else of the VM changes (vSphere sets
a key given again to its new value, and allows extraConfig changes on a running VM). Tasks
run together, bounded, and are waited for through the PropertyCollector (ops/runner.py).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from vhpc_toolkit.ops.post.results import ScriptRun
from vhpc_toolkit.ops.post.steps import STEPS_KEY, Failure, StepRecord, record_of, step_digest
from vhpc_toolkit.ops.runner import Job, run_jobs
from vhpc_toolkit.results import FAILED, OK, TargetResult
from vhpc_toolkit.vsphere.inventory import read_objects

RECORD_CONCURRENCY = 32


def record_spec(value: str):
    """The ConfigSpec that sets a VM's step record (``""`` removes it)."""
    from pyVmomi import vim

    return vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=STEPS_KEY, value=value)])


def write_records(session, records: Mapping[str, tuple[Any, str]],
                  concurrency: int = RECORD_CONCURRENCY) -> dict[str, str]:
    """``records``: VM name -> (VM reference, record value). Returns VM name -> why its write
    failed (empty when every record was written)."""
    jobs = [Job(result=TargetResult(name), start=lambda ref=ref, value=value: ref.ReconfigVM_Task(
                spec=record_spec(value)))
            for name, (ref, value) in records.items()]
    run_jobs(session, jobs, concurrency=concurrency)
    return {j.result.name: j.result.detail for j in jobs if j.result.failed}


def record_runs(session, runs: Sequence[ScriptRun], objs: Mapping[str, Any], contents: Mapping[str, bytes],
                user: str) -> list[str]:
    """`post --wait`: each VM's scripts that ended go into its record as steps without a barrier
    (the same digest as a cluster file's unlabelled step of that script, arguments and user), read
    in one call and written with one task per VM. Returns notes for the writes that failed."""
    ended: dict[str, list[ScriptRun]] = {}
    for run in runs:
        if run.status == OK or (run.status == FAILED and run.exit_code is not None):
            ended.setdefault(run.vm, []).append(run)
    if not ended:
        return []
    read = read_objects(session, [objs[name].ref for name in ended], ["name", "config.extraConfig"])
    writes = {}
    for name, vm_runs in ended.items():
        obj = read.get(objs[name].moid)
        old = record_of(obj) if obj is not None else StepRecord()
        digests = [(run, step_digest(contents[run.path or run.script], run.args, user, None)) for run in vm_runs]
        new = old.updated([d for run, d in digests if run.status == OK],
                          {d: Failure(run.exit_code, run.output_tail) for run, d in digests if run.status == FAILED})
        if new.to_value() != old.to_value() or old.unreadable:
            writes[name] = (objs[name].ref, new.to_value())
    return [f"VM {name}: the script steps were not recorded ({why})"
            for name, why in write_records(session, writes).items()]
