"""Start one task per VM with bounded concurrency, then wait for all of them together.

Submitting is a SOAP call per VM, done by a small thread pool so that one slow
call does not hold the rest; waiting is one PropertyCollector for all tasks.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from vhpc_toolkit.ops.results import CHANGED, FAILED, VMResult
from vhpc_toolkit.vsphere.tasks import TaskOutcome, fault_message, wait_for_tasks

DEFAULT_CONCURRENCY = 8


@dataclass
class Job:
    """One VM's task: ``start()`` returns a vim.Task (a SOAP call)."""

    result: VMResult
    start: Callable[[], Any]


def run_jobs(session, jobs: list[Job], concurrency: int = DEFAULT_CONCURRENCY, timeout: float = 900.0,
             on_event: Callable[[VMResult], None] | None = None) -> None:
    """Run every job; each job's ``result`` ends CHANGED or FAILED with the vSphere fault."""
    if not jobs:
        return
    task_owner: dict[str, Job] = {}
    tasks = []

    def submit(job: Job):
        try:
            task = job.start()
        except Exception as exc:  # a fault raised by the call itself (e.g. InvalidState)
            job.result.status, job.result.detail = FAILED, _message(exc)
            if on_event:
                on_event(job.result)
            return None
        return task

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for job, task in zip(jobs, pool.map(submit, jobs)):
            if task is not None:
                task_owner[task._moId] = job
                tasks.append(task)

    def done(outcome: TaskOutcome) -> None:
        job = task_owner[outcome.task._moId]
        if outcome.ok:
            job.result.status = CHANGED
        else:
            job.result.status, job.result.detail = FAILED, outcome.error or "task failed"
        if on_event:
            on_event(job.result)

    wait_for_tasks(session, tasks, timeout=timeout, on_done=done)


def _message(exc: Exception) -> str:
    if hasattr(exc, "msg") or hasattr(exc, "faultMessage"):
        return fault_message(exc)
    return str(exc) or type(exc).__name__
