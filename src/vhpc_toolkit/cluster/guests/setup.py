"""The end of a `cluster --create` run: guest setup, checks and what is left of the file's pattern.

After the VMs' tasks and guest waits: the script steps each VM of the file has not finished
(every step with --rerun-scripts) run on the VMs that exist and did not fail, barrier by barrier
across the whole cluster (cluster/guests/scripts.py), also when the run created nothing; then the
file's checks (cluster/guests/checks.py) unless --no-checks; each VM's outcome carries its steps'
states and its checks, the result the strays still there, so the run's verdict is the one
`cluster --status` gives for the same state (cluster/state/verdict.py).
"""
from __future__ import annotations

from typing import Any

from vhpc_toolkit.cluster.guests.checks import PROPS as CHECK_PROPS, check_rows, run_file_checks, with_checks
from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan
from vhpc_toolkit.cluster.state.result import ClusterResult, Stray
from vhpc_toolkit.cluster.guests.scripts import run_unfinished, step_states, summary, unfinished
from vhpc_toolkit.cluster.ownership.strays import LEFT, stray_row
from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.ops.post.steps import StepRecord, record_of
from vhpc_toolkit.phases import Phases
from vhpc_toolkit.results import DESTROYED, FAILED
from vhpc_toolkit.vsphere.inventory import read_objects


def _records(plan: ClusterPlan) -> dict[str, StepRecord]:
    return {p.name: record_of(p.existing) if p.existing is not None and p.action != CREATE else StepRecord()
            for p in plan.vms if p.spec.scripts}


def run_scripts(session, plan: ClusterPlan, result: ClusterResult, password_for, progress: Phases,
                env_for=None) -> None:
    """The unfinished steps (all with ``plan.rerun_scripts``) on the file's VMs that exist and did not fail;
    ``env_for(vmspec)``: their scripts' environment (slurm/guest_env.py)."""
    outcomes = {v.name: v for v in result.vms}
    names = [p.name for p in plan.vms if p.spec.scripts and outcomes[p.name].ref is not None
             and not outcomes[p.name].failed]
    records = _records(plan)
    try:
        done = run_unfinished(session, plan.spec, names, records, {n: outcomes[n].ref for n in names},
                              password_for, rerun=plan.rerun_scripts, contents=plan.contents or None,
                              progress=progress, env_for=env_for)
    except VhpcError as exc:
        result.notes.append(f"post scripts not run: {exc}")
        for name in names:
            outcomes[name].status, outcomes[name].detail = FAILED, f"post scripts not run: {exc}"
        states(plan, result, records)
        return
    records.update(done.records)
    result.post = done.report
    result.notes += done.notes
    states(plan, result, records)


def states(plan: ClusterPlan, result: ClusterResult, records: dict[str, StepRecord] | None = None) -> None:
    """Each VM's steps as its record now has them (a VM that does not exist: all pending)."""
    records = records if records is not None else _records(plan)
    contents = plan.contents
    for out in result.vms:
        vm = plan.spec.vm(out.name)
        if vm.elastic and out.ref is None:   # Slurm's to make: its steps run when it does (slurm/power.py)
            continue
        if vm.scripts and contents:
            out.steps = step_states(vm, records.get(out.name, StepRecord()) if out.ref is not None else StepRecord(),
                                    contents)
            said = summary(out.steps)
            if unfinished(out.steps) and not out.failed and said not in out.detail:   # in its row, as --status
                out.detail = "; ".join(filter(None, [out.detail, said]))


def run_checks(session, plan: ClusterPlan, result: ClusterResult, password_for, progress: Phases) -> None:
    """The file's checks in the VMs that exist (read once for their power and Tools state)."""
    names = {v.name: v for v in result.vms if v.ref is not None and not v.failed}
    vms = with_checks(plan.spec, list(names))
    if not vms:
        return
    read = read_objects(session, [names[vm.name].ref for vm in vms], ["name"] + CHECK_PROPS)
    objs = {o.name: o for o in read.values()}
    try:
        result.checks = run_file_checks(session, plan.spec, objs, password_for, contents=plan.contents or None,
                                        progress=progress)
    except VhpcError as exc:
        result.notes.append(f"checks not run: {exc}")
        return
    rows = check_rows(result.checks)
    for out in result.vms:
        if out.name in rows:
            out.checks = rows[out.name]


def remaining_strays(plan: ClusterPlan, pruned: list[Stray]) -> list[Stray]:
    """The VMs of the file's pattern still there: all strays without --prune, else those --prune left."""
    if plan.prune:
        return [s for s in pruned if s.status != DESTROYED]
    prunable = plan.prunable
    return [stray_row(plan.inv, o, detail="" if o in prunable else LEFT) for o in plan.strays]


def finish(session, plan: ClusterPlan, result: ClusterResult, options: Any, progress: Phases,
           scripts: bool = True) -> None:
    """The unfinished steps (unless ``scripts`` is False: --rollback after a failure), the steps' states,
    checks (unless ``options.checks`` is False), the strays left."""
    if scripts:
        run_scripts(session, plan, result, options.password_for, progress, getattr(options, "script_env", None))
    else:
        states(plan, result)
    if getattr(options, "checks", True):
        run_checks(session, plan, result, options.password_for, progress)
    result.strays = remaining_strays(plan, result.pruned)
