"""Health checks in guests: read-only scripts run through VMware Tools; exit 0 is healthy.

Unlike post scripts, a check never powers a VM on and never waits for VMware Tools: a VM
that is off or has no Tools running gets its checks "not run" (with the reason). Every
check of a VM runs even when an earlier one fails (they are independent), and every VM
runs at once, at most ``concurrency`` at a time. A check's script and log keep one fixed
name in the guest (``/tmp/vhpc-check-<name>-<id>.sh/.log``), overwritten by the next run,
so checks run every few minutes do not fill /tmp.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Mapping, Sequence

from vhpc_toolkit.ops.post.engine import DEFAULT_TAIL, _run_phase, _VM, guest_paths
from vhpc_toolkit.ops.post.results import PostReport, ScriptRun
from vhpc_toolkit.results import NOT_RUN

CHECK_TIMEOUT = 300.0      # seconds for all checks of a run
CHECK_CONCURRENCY = 16


def _check_paths(step) -> tuple[str, str]:
    token = hashlib.sha256("\0".join([step.path, *step.args]).encode()).hexdigest()[:8]
    return guest_paths("check-" + step.path.rsplit("/", 1)[-1], token)


def _not_ready(obj) -> str:
    if obj.get("runtime.powerState") != "poweredOn":
        return f"not run: VM {obj.name} is {obj.get('runtime.powerState') or 'not powered on'}"
    if obj.get("guest.toolsRunningStatus") != "guestToolsRunning":
        return f"not run: VMware Tools is not running in VM {obj.name}"
    return ""


def run_checks(session, targets: Sequence[tuple[Any, Sequence[Any], str, str]], contents: Mapping[str, bytes], *,
               concurrency: int = CHECK_CONCURRENCY, timeout: float = CHECK_TIMEOUT, tail_lines: int = DEFAULT_TAIL,
               on_event: Callable[[ScriptRun], None] | None = None) -> PostReport:
    """``targets``: [(VM Obj read with runtime.powerState and guest.toolsRunningStatus, [ScriptStep],
    guest user, guest password)]; ``contents``: each check's bytes by path. Every run ends ok,
    failed (exit code, output) or not run (why)."""
    work, runs = [], []
    for obj, steps, user, password in targets:
        vm = _VM(obj, user, password)
        vm_runs = []
        for step in steps:
            run = ScriptRun(obj.name, step.source or step.path, path=step.path, args=tuple(step.args), step=step)
            run.guest_script, run.guest_log = _check_paths(step)
            vm_runs.append(run)
        runs += vm_runs
        why = _not_ready(obj)
        if why:
            for run in vm_runs:
                run.status, run.error = NOT_RUN, why
                if on_event:
                    on_event(run)
            continue
        work.append((vm, vm_runs))
    _run_phase(session, work, contents, True, concurrency, time.monotonic() + timeout, tail_lines, on_event,
               stop_on_failure=False)
    return PostReport(runs, operation="checks")
