"""The programs slurmctld runs: resume, suspend and resume-fail of a host list, on the cluster engine.

- ``resume``: the nodes' VMs are planned like `cluster --create` plans (placement, checks, the
  file's post scripts on the VMs it clones) and applied (clones of the missing ones, power-on of the
  stopped ones); it returns when every node is booted with its IP. A node that fails is marked
  DOWN in Slurm with the reason (``vhpc: ...``); the others go on.
- ``suspend``: the nodes' VMs are powered off (``suspend: power_off``) or destroyed (``destroy``).
- ``resume-fail``: Slurm gave up on the nodes (no registration within ResumeTimeout): their VMs
  are destroyed, so the next resume starts from the template.

Only the file's own VMs are touched (cluster/ownership/owner.py); switches are `cluster --create`'s.
Every action is one line in the log (slurm/log.py).
"""
from __future__ import annotations

import time
from dataclasses import replace

from vhpc_toolkit.errors import InputError, ValidationFailed, VhpcError
from vhpc_toolkit.results import CHANGED, FAILED, UNCHANGED, Report, TargetResult
from vhpc_toolkit.slurm import claims, scontrol
from vhpc_toolkit.slurm.claims import ClusterState
from vhpc_toolkit.slurm.config import default_log
from vhpc_toolkit.slurm.hostlists import compress, expand
from vhpc_toolkit.slurm.locks import shared_cluster_lock
from vhpc_toolkit.slurm.log import ActionLog, one_line
from vhpc_toolkit.slurm.nodes import compute_vms
from vhpc_toolkit.words import count

PLAN_LOCK_WAIT = 600   # seconds a program waits for another's planning


class Run:
    """One program's run: its nodes' results, the log, and marking failed nodes DOWN (resume)."""

    def __init__(self, spec, action: str, names: list[str], log_path: str | None):
        self.spec, self.action, self.names = spec, action, names
        self.log = ActionLog(log_path or default_log(spec), action)
        self.results = {n: TargetResult(n, UNCHANGED) for n in names}
        self.started = time.monotonic()
        self.env: dict = {}

    def done(self, name: str, status: str, detail: str) -> None:
        self.results[name].status, self.results[name].detail = status, detail
        self.log.write(name, detail)

    def fail(self, names: list[str], why: str) -> None:
        """Fail ``names``; a resume marks them DOWN so Slurm requeues their jobs elsewhere."""
        if not names:
            return
        for n in names:
            self.results[n].status, self.results[n].detail = FAILED, one_line(why)
        subject = compress(names)
        if self.action == "resume":
            problem = scontrol.mark_down(subject, why)
            self.log.write(subject, f"failed, marked DOWN: {why}" if problem is None
                           else f"failed: {why}; not marked DOWN: {problem}")
        else:
            self.log.write(subject, f"failed: {why}")

    def open(self) -> list[str]:
        return [n for n, r in self.results.items() if r.status == UNCHANGED and not r.detail]

    def report(self) -> Report:
        failed = [n for n, r in self.results.items() if r.failed]
        self.log.write(compress(self.names) if self.names else "-",
                       f"{count(len(self.names), 'node')}, {len(failed)} failed, {time.monotonic() - self.started:.1f} s")
        return Report(f"slurm {self.action}", list(self.results.values()))


def run_action(ctx, spec, action: str, hostlist: str, log_path: str | None) -> Report:
    """Run program ``action`` (resume, suspend, resume-fail) for the nodes of ``hostlist``."""
    if spec.slurm is None:
        raise InputError(f"{spec.path}: no [_SLURM_] section; see docs/slurm.md")
    run = Run(spec, action, expand(hostlist), log_path)
    run.env = ctx.env
    known = {vm.name: vm for vm in compute_vms(spec)}
    run.fail([n for n in run.names if n not in known], f"not a compute node of {spec.path}")
    nodes = [known[n] for n in run.open()]
    if not nodes:
        return run.report()
    state = ClusterState(spec.path)
    try:
        session = ctx.session()
        with shared_cluster_lock(session, spec, state, wait=spec.slurm.resume_timeout):
            {"resume": resume, "suspend": suspend, "resume-fail": resume_fail}[action](session, run, nodes, state)
    except VhpcError as exc:   # vCenter unreachable, the cluster locked by another run...
        run.fail(run.open(), str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except Exception as exc:   # a bug or an unexpected fault: Slurm still learns which nodes failed
        run.fail(run.open(), f"{type(exc).__name__}: {getattr(exc, 'msg', None) or exc}")
        run.report()
        raise
    return run.report()


# --- resume --------------------------------------------------------------------------------------

def _node_problems(exc: ValidationFailed, names: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Plan problems by the node they name, and those that name none of them (every node's); all
    are every node's when the plan did not sort them by VM."""
    if not exc.by_vm:
        return {}, list(exc.problems)
    by_node = {n: exc.by_vm[n] for n in names if n in exc.by_vm}
    general = [line for vm, lines in exc.by_vm.items() if vm not in by_node for line in lines]
    return by_node, general


def _prepare(session, run: Run, nodes, state: ClusterState):
    """Plan the nodes (under the cluster's planning lock), dropping the ones with problems; the
    prepared run and its claims recorded, or None when no node is left."""
    from vhpc_toolkit.cluster.planning.prepare import prepare_create
    from vhpc_toolkit.ops.post import password_source

    password_for = password_source(env=run.env, prompt=None)
    for _ in range(2):   # a second plan without the nodes the first one refused
        subset = replace(run.spec, vms=list(nodes), svs=[], dvs=[])
        with state.locked(PLAN_LOCK_WAIT):
            doc = state.read()
            planned = {vm.name for vm in nodes}

            def held(inv):
                return claims.in_flight(doc, inv) + claims.stopped_nodes(session, inv, run.spec, planned)
            try:
                prepared = prepare_create(session, subset, password_for=password_for, elastic=True, held=held)
            except ValidationFailed as exc:
                by_node, general = _node_problems(exc, [vm.name for vm in nodes])
                if general:
                    run.fail([vm.name for vm in nodes], general[0])
                    return None
                for name, lines in by_node.items():
                    run.fail([name], lines[0])
                nodes = [vm for vm in nodes if vm.name not in by_node]
                if not nodes:
                    return None
                continue
            claims.record(state, doc, claims.plan_claims(prepared.plan))
            return prepared
    run.fail([vm.name for vm in nodes], "the plan kept changing; try again")
    return None


def resume(session, run: Run, nodes, state: ClusterState) -> None:
    from vhpc_toolkit.cluster.applying.apply import ApplyOptions, apply_plan, current_state
    from vhpc_toolkit.slurm.guest_env import script_env

    prepared = _prepare(session, run, nodes, state)
    if prepared is None:
        return
    plan = prepared.plan
    for p in plan.vms:
        run.log.write(p.name, _intent(p))
    options = ApplyOptions(ip_timeout=run.spec.slurm.resume_timeout, password_for=prepared.password_for,
                           script_env=script_env(run.spec))
    try:
        result = current_state(plan) if plan.up_to_date else apply_plan(session, plan, options, prepared.offers)
    finally:
        claims.forget(state, PLAN_LOCK_WAIT)
    _settle(run, plan, result)


def _intent(p) -> str:
    if p.action == "create":
        where = p.placement.host.name if p.placement is not None else "?"
        return f"cloning on {where}" + (f" ({p.choice.describe()})" if p.choice is not None else "")
    if p.power_on:
        return "powering on (it exists, powered off)"
    return "already running"


def _settle(run: Run, plan, result) -> None:
    """Each node's outcome: booted with its IP (NodeAddr told to Slurm when the file had none), or DOWN."""
    scripts = {}
    for r in (result.post.runs if getattr(result, "post", None) else []):
        if r.failed:
            scripts.setdefault(r.vm, f"post script {r.script} failed" +
                               (f": {r.output_tail[-1]}" if r.output_tail else f": {r.error}" if r.error else ""))
    specs = {p.name: p.spec for p in plan.vms}
    for out in result.vms:
        why = out.detail if out.failed else scripts.get(out.name)
        if why is None and not out.ip:
            why = f"no guest IP within {run.spec.slurm.resume_timeout}s"
        if why:
            run.fail([out.name], why)
            continue
        done = {"created": "cloned", "powered on": "powered on"}.get(out.status, "running")
        text = f"{done} on {out.host}, booted with {out.ip} ({time.monotonic() - run.started:.1f} s)"
        if out.ip != specs[out.name].ip:
            problem = scontrol.set_address(out.name, out.ip)
            text += "; NodeAddr set" if problem is None else f"; NodeAddr not set: {problem}"
        run.done(out.name, CHANGED, text)


# --- suspend and resume-fail ------------------------------------------------------------------------

def _present(session, run: Run, nodes):
    """The nodes' VMs the file owns (cluster/destroy.plan_destroy): {name: Obj}; the absent ones logged."""
    from vhpc_toolkit.cluster.applying.destroy import plan_destroy

    plan = plan_destroy(session, replace(run.spec, vms=list(nodes), svs=[], dvs=[]))
    for name in plan.absent:
        run.done(name, UNCHANGED, "no VM (nothing to do)")
    for name, why in plan.left:
        run.fail([name], why)
    return {o.name: o for o in plan.present}


def _destroy(session, run: Run, present: dict, why: str) -> None:
    from vhpc_toolkit.ops.vms.destroy import Doomed, power_off_and_destroy

    doomed = [Doomed(o.ref, o.get("runtime.powerState") != "poweredOff", TargetResult(name))
              for name, o in present.items()]
    power_off_and_destroy(session, doomed)
    for d in doomed:
        if d.result.failed:
            run.fail([d.result.name], d.result.detail)
        else:
            run.done(d.result.name, CHANGED, f"{d.result.detail} ({why})")


def suspend(session, run: Run, nodes, state: ClusterState) -> None:
    from vhpc_toolkit.ops.runner import Job, run_jobs

    present = _present(session, run, nodes)
    if run.spec.slurm.suspend == "destroy":
        _destroy(session, run, present, "suspend: destroy")
        return
    jobs = []
    for name, o in present.items():
        if o.get("runtime.powerState") == "poweredOff":
            run.done(name, UNCHANGED, "already powered off")
        else:
            jobs.append(Job(result=TargetResult(name), start=o.ref.PowerOffVM_Task))
    run_jobs(session, jobs)
    for job in jobs:
        if job.result.failed:
            run.fail([job.result.name], f"power off failed: {job.result.detail}")
        else:
            run.done(job.result.name, CHANGED, "powered off")


def resume_fail(session, run: Run, nodes, state: ClusterState) -> None:
    _destroy(session, run, _present(session, run, nodes), "Slurm gave up on it; the next resume clones it again")
