"""The cluster file's health checks (``check: SCRIPT [ARGS]``), run in its VMs' guests.

`cluster --status` (and `cluster --create`, last) run every check of every VM of the file that
exists and should run (not ``power: off``), all VMs at once (bounded), through guest operations:
exit 0 is healthy. A VM that is not running, or has no VMware Tools running, gets its checks
"not run", which is not healthy.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from vhpc_toolkit.clusterfile import ClusterSpec, VMSpec
from vhpc_toolkit.ops.post import PostReport, read_scripts
from vhpc_toolkit.ops.post.checks import run_checks
from vhpc_toolkit.ops.post.engine import DEFAULT_USER
from vhpc_toolkit.phases import Phases, as_phases
from vhpc_toolkit.results import OK

PROPS = ["runtime.powerState", "guest.toolsRunningStatus"]   # what a VM is read with to run checks


def check_contents(spec: ClusterSpec) -> dict[str, bytes]:
    """Every check script's bytes by path (one error naming every unreadable one)."""
    return read_scripts(step.path for vm in spec.vms for step in vm.checks)


def with_checks(spec: ClusterSpec, names: Sequence[str] | None = None) -> list[VMSpec]:
    """The VMs whose checks run: those with checks that the file wants running (a VM the file
    keeps powered off has nothing to check)."""
    wanted = set(names) if names is not None else None
    return [vm for vm in spec.vms if vm.checks and vm.power != "off" and (wanted is None or vm.name in wanted)]


def run_file_checks(session, spec: ClusterSpec, objs: Mapping[str, Any], password_for: Callable[[Any], str], *,
                    contents: Mapping[str, bytes] | None = None, progress: Phases | Callable | None = None,
                    concurrency: int = 16) -> PostReport | None:
    """Run the checks of the file's VMs found in ``objs`` (VM name -> Obj read with ``PROPS``);
    None when no VM there has checks. Raises InputError when no guest password can be had."""
    vms = [vm for vm in with_checks(spec) if vm.name in objs]
    if not vms:
        return None
    contents = dict(contents) if contents is not None else check_contents(spec)
    targets = [(objs[vm.name], vm.checks, vm.guest_username or DEFAULT_USER, password_for(vm)) for vm in vms]
    with as_phases(progress).phase("checks", sum(len(vm.checks) for vm in vms)) as phase:
        return run_checks(session, targets, contents, concurrency=concurrency,
                          on_event=lambda run: phase.done(run, failed=run.status != OK))


def check_rows(report: PostReport | None) -> dict[str, list[dict]]:
    """VM name -> its checks as JSON: check, status, exit code, last output lines, detail."""
    out: dict[str, list[dict]] = {}
    for run in report.runs if report is not None else []:
        out.setdefault(run.vm, []).append({
            "check": run.step.shown if run.step is not None else run.script, "status": run.status,
            "exit_code": run.exit_code, "output_tail": list(run.output_tail),
            "detail": "" if run.status == OK else run.describe()})
    return out
