"""A cluster run's clones as planned against vCenter's admission: which copies of the template it
makes (and reuses), where each VM is cloned from, in what order, and the runner's jobs that do it.

The plan (cluster/cloning/plan.py) works on keys; this module ties it to the inventory: templates and
hosts are objects, copies get names and places (the folder, pool and datastore of the first VM of
the file on that host), copies of earlier runs are found by their marks (cluster/cloning/copies.py).
At run time a clone from a copy waits until the copy exists; if the copy failed, it is cloned from
the template instead.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from vhpc_toolkit.cluster.cloning.plan import ClonePlan, CloneRequest, Source, plan_clones
from vhpc_toolkit.cluster.ownership.owner import owner_of
from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan, VMPlan
from vhpc_toolkit.cluster.cloning.copies import copy_name, copy_spec, find_copies, template_version
from vhpc_toolkit.ops.vms.placement import ref_of
from vhpc_toolkit.ops.runner import Job
from vhpc_toolkit.results import CHANGED, PENDING, TargetResult
from vhpc_toolkit.settings.admission import FULL, INSTANT, LINKED, AdmissionModel
from vhpc_toolkit.vsphere.inventory import Obj

PACE = 0.5   # seconds at most a round's ends are gathered for (runner ``pace``), when the clone time is known
# A clone quicker than this (a lab, storage that offloads clones) is over before the calls around it:
# copies of the template would only add calls and disk space.
MIN_COPY_CLONE_TIME = 0.5
QUICK_PER_HOST = 8   # tasks in flight per destination host when clones are quick


def quick(model: AdmissionModel) -> bool:
    """Whether clones are known to be quicker than the calls around them (a lab; offloaded clones)."""
    return model.clone_time is not None and model.clone_time < MIN_COPY_CLONE_TIME


@dataclass
class PlannedCopy:
    """A copy of a template this run makes on ``host``, placed as the file's first VM there."""

    template: Obj
    host: Obj
    name: str
    version: str
    first: VMPlan            # the file's first VM on that host: the copy's folder, pool and datastore


@dataclass
class CloneRun:
    model: AdmissionModel
    plan: ClonePlan
    owner: str                                 # the file's owner mark: its copies carry it
    templates: dict[str, Obj]                  # moid -> template (or an instant clone's running source)
    hosts: dict[str, Obj]                      # moid -> host (every host of the inventory)
    copies: dict[tuple[str, str], PlannedCopy] = field(default_factory=dict)   # (template, host) -> to make
    kept: dict[tuple[str, str], Obj] = field(default_factory=dict)             # copies of earlier runs used
    stale: list[Obj] = field(default_factory=list)      # the file's copies of an older template version
    made: list[tuple[str, Any]] = field(default_factory=list)   # (name, ref) of the copies this run made


def kind_of(p: VMPlan) -> str:
    return INSTANT if p.spec.instant else LINKED if p.spec.linked else FULL


def _requests(creates: list[VMPlan]) -> list[CloneRequest]:
    out = []
    for p in creates:
        host = p.template.get("runtime.host")
        out.append(CloneRequest(p.name, p.placement.host.moid, p.template.moid,
                                host._moId if host is not None else f"?{p.template.moid}", kind_of(p)))
    return out


def plan_clone_run(plan: ClusterPlan, model: AdmissionModel, copies: bool = True) -> CloneRun | None:
    """The clones of the VMs ``plan`` creates, planned; None when it creates none. ``copies``: whether
    copies of the template may be made (a cluster's own; not for the `clone` command)."""
    creates = [p for p in plan.vms if p.action == CREATE and p.placement is not None and p.template is not None]
    if not creates:
        return None
    templates = {p.template.moid: p.template for p in creates}
    usable = {moid for moid, t in templates.items() if copies and t.get("config.template") and t.get("runtime.host")}
    found = find_copies(plan.inv, owner_of(plan.spec), [templates[m] for m in usable])
    kept = {t: set(hosts) for t, hosts in found.usable.items()}
    # Quick clones make no new copies (they would only add calls and disk space); kept ones still serve.
    clone_plan = plan_clones(_requests(creates), model, kept, set() if quick(model) else usable)
    run = CloneRun(model, clone_plan, plan.owner, templates, {h.moid: h for h in plan.inv.of_type("HostSystem")},
                   stale=found.stale)
    for source in clone_plan.kept:
        run.kept[(source.template, source.host)] = found.usable[source.template][source.host]
    first = {}
    for p in creates:
        first.setdefault((p.template.moid, p.placement.host.moid), p)
    for step in clone_plan.copies:
        template, host = templates[step.source.template], run.hosts[step.host]
        version = template_version(template)
        run.copies[(template.moid, host.moid)] = PlannedCopy(
            template, host, copy_name(template.name, host.name, plan.owner, version), version,
            first[(template.moid, host.moid)])
    taken = {o.name for o in plan.inv.of_type("VirtualMachine")}
    for c in run.copies.values():
        if c.name in taken:
            plan.problems.append(f"a VM named {c.name} exists: the copy of template {c.template.name} this run would "
                                 f"make on {c.host.name} needs that name (rename or remove it)")
    return run


class _Live:
    """A source at run time: the template, a copy of an earlier run, or a copy this run makes (its
    job; the template stands in if it failed)."""

    def __init__(self, ref, host: str, job: Job | None = None, fallback: "_Live | None" = None):
        self.ref, self.host, self.job, self.fallback = ref, host, job, fallback

    def ready(self) -> bool:
        return self.job is None or self.job.result.status != PENDING

    def current(self) -> "_Live":
        if self.job is None or (self.job.result.status == CHANGED and self.ref is not None):
            return self
        return self.fallback.current()


@dataclass
class CloneJobs:
    """The runner's jobs for a run's clones: the copies first, then one per VM (``vm_job``)."""

    run: CloneRun
    copies: list[Job] = field(default_factory=list)
    sources: dict[tuple[str, str], _Live] = field(default_factory=dict)
    vm_jobs: list[Job] = field(default_factory=list)

    def copy_results(self) -> list[TargetResult]:
        return [j.result for j in self.copies]

    def vm_job(self, p: VMPlan, spec: Any, result: TargetResult, on_success: Callable) -> Job:
        """The job cloning ``p`` (its ``spec`` built against the template) from its planned source."""
        run = self.run
        planned = run.plan.source_of(p.name) or Source(p.template.moid, "")
        live = self.sources.get((planned.template, planned.host)) or self.sources[(planned.template, None)]
        kind = kind_of(p)
        if kind == INSTANT:
            start = (lambda: p.template.ref.InstantClone_Task(spec=spec))
        else:
            start = (lambda: live.current().ref.CloneVM_Task(folder=ref_of(p.placement.folder), name=p.name, spec=spec))
        # Keyed by source (its queue in the plan's order), or for quick clones by host, as before the model.
        key = p.placement.host.moid if quick(run.model) else live.host
        job = Job(result=result, start=start, key=key, on_success=on_success, ready=live.ready,
                  charges=lambda: run.model.charges(kind, live.current().host, p.placement.host.moid))
        self.vm_jobs.append(job)
        return job


def clone_jobs(run: CloneRun) -> CloneJobs:
    """Sources for every template (itself, kept copies, copies to make) and the copies' jobs."""
    jobs = CloneJobs(run)
    for moid, template in run.templates.items():
        host = template.get("runtime.host")
        jobs.sources[(moid, None)] = jobs.sources[(moid, host._moId if host is not None else "")] = \
            _Live(template.ref, host._moId if host is not None else f"?{moid}")
    for (t, h), vm in run.kept.items():
        jobs.sources[(t, h)] = _Live(vm.ref, h)
    for step in run.plan.copies:
        planned = run.copies[(step.source.template, step.host)]
        source = jobs.sources[(step.source.template, step.source.host)]
        live = _Live(None, step.host, fallback=jobs.sources[(step.source.template, None)])
        live.job = _copy_job(run, planned, source, live)
        jobs.sources[(step.source.template, step.host)] = live
        jobs.copies.append(live.job)
    return jobs


def _copy_job(run: CloneRun, c: PlannedCopy, source: _Live, live: _Live) -> Job:
    placement = c.first.placement
    spec = copy_spec(run.owner, c.version, c.host.ref, placement.pool,
                     placement.datastore.ref if placement.datastore else None)

    def made(ref) -> None:
        live.ref = ref
        run.made.append((c.name, ref))

    return Job(result=TargetResult(c.name, PENDING), key=source.host, on_success=made, ready=source.ready,
               start=lambda: source.current().ref.CloneVM_Task(folder=ref_of(placement.folder), name=c.name, spec=spec),
               charges=lambda: run.model.charges(FULL, source.current().host, c.host.moid))


def measured_clone_time(jobs: list[Job]) -> float | None:
    """The median time full clones ran in this run (vCenter's start to end), or None."""
    times = [j.seconds for j in jobs if j.result.status == CHANGED and j.seconds]
    return statistics.median(times) if times else None


def cloning_dict(run: CloneRun, copies: list[TargetResult] | None = None) -> dict:
    """The plan and (after the run) the copies' outcomes, for the JSON result."""
    plan, model = run.plan, run.model
    status = {r.name: (r.status, r.detail) for r in copies or []}
    made = []
    for c in run.copies.values():
        st, detail = status.get(c.name, ("planned", ""))
        made.append({"name": c.name, "template": c.template.name, "host": c.host.name, "status": st, "detail": detail})
    return {"rounds": round(plan.rounds(), 2), "rounds_from_template": round(plan.rounds(plan.direct), 2),
            "clone_time": model.clone_time, "clone_time_source": model.clone_time_source or None,
            "estimated_seconds": round(plan.finish, 1) if model.clone_time else None,
            "copies": made, "reused": sorted(vm.name for vm in run.kept.values()),
            "replaced": sorted(vm.name for vm in run.stale)}


def run_clones(session, plan: ClusterPlan, jobs: list[Job], options, on_event, on_states=None,
               wake_on_start: bool | None = None) -> None:
    """The clone (and reconfigure) jobs as vCenter admits them: the clone plan's model is the budget,
    ``--max-per-host`` caps the operations touching a host, ``--max-concurrency`` those in flight.
    Clones known to be quicker than the calls around them (MIN_COPY_CLONE_TIME) run as before the
    model: up to 32 in flight, 8 per host; vCenter's queue clears faster than waits could pace them."""
    from vhpc_toolkit.ops.admission import Ledger
    from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, run_jobs
    from vhpc_toolkit.settings.admission import admission_of

    model = plan.clones.model if plan.clones is not None else admission_of(session)
    if quick(model):
        run_jobs(session, jobs, concurrency=options.max_concurrency or DEFAULT_CONCURRENCY,
                 per_key=options.max_per_host or QUICK_PER_HOST, on_event=on_event, on_states=on_states,
                 wake_on_start=wake_on_start)
        return
    budget = Ledger(model, options.max_per_host, options.max_concurrency)
    # Clones that take minutes end in rounds, a little apart: a round's ends are gathered (for a tenth
    # of the clone time, at most half a second) into one wave of new clones.
    pace = min(PACE, model.clone_time / 10) if model.clone_time else 0.0
    run_jobs(session, jobs, concurrency=options.max_concurrency or model.max_operations or 10_000,
             budget=budget, on_event=on_event, on_states=on_states, pace=pace, wake_on_start=wake_on_start)


def replace_stale_copies(session, plan: ClusterPlan, notes: list[str]) -> None:
    """Copies of an older version of a template (the file's own) go before new ones are made."""
    from vhpc_toolkit.ops.vms.destroy import Doomed, power_off_and_destroy

    stale = plan.clones.stale if plan.clones is not None else []
    if not stale:
        return
    doomed = [Doomed(vm.ref, False, TargetResult(vm.name)) for vm in stale]
    power_off_and_destroy(session, doomed)
    gone = [d.result.name for d in doomed if not d.result.failed]
    failed = [f"{d.result.name} ({d.result.detail})" for d in doomed if d.result.failed]
    if gone:
        notes.append(f"replaced {len(gone)} copies of an older version of the template: {', '.join(gone)}")
    if failed:
        notes.append(f"copies of an older version of the template not removed: {', '.join(failed)}")


def copy_notes(session, copies: CloneJobs) -> list[str]:
    """What became of the copies, and the clone time measured (kept for the next plan's estimate)."""
    from vhpc_toolkit.cluster.cloning.times import remember

    run, notes = copies.run, []
    made = [r.name for r in copies.copy_results() if r.status == CHANGED]
    if made:
        notes.append(f"made {len(made)} copies of the template as extra clone sources; later runs reuse them, "
                     f"cluster --destroy removes them (--keep-template-copies keeps them)")
    for r in copies.copy_results():
        if r.status != CHANGED:
            notes.append(f"copy {r.name} of the template: {r.detail or r.status}; its VMs were cloned from the "
                         "template")
    full = {s.vm for s in run.plan.steps if s.vm is not None and s.kind == FULL}
    jobs = copies.copies + [j for j in copies.vm_jobs if j.result.name in full]
    seconds = measured_clone_time(jobs)
    if seconds is not None:
        names = Counter(run.templates[s.source.template].name for s in run.plan.steps if s.kind == FULL)
        remember(f"{session.server}:{session.port}", names.most_common(1)[0][0], seconds, len(jobs))
    return notes


def remove_made_copies(session, run: CloneRun | None) -> list[str]:
    """--rollback: the copies this run made go too (the notes say what became of them)."""
    from vhpc_toolkit.ops.vms.destroy import Doomed, power_off_and_destroy

    if run is None or not run.made:
        return []
    doomed = [Doomed(ref, False, TargetResult(name)) for name, ref in run.made]
    power_off_and_destroy(session, doomed)
    failed = [f"{d.result.name} ({d.result.detail})" for d in doomed if d.result.failed]
    notes = [f"--rollback destroyed the {len(doomed) - len(failed)} copies of the template this run made"]
    return notes + ([f"copies of the template not destroyed: {', '.join(failed)}"] if failed else [])
