"""Apply a cluster plan: switches, then one CloneVM_Task per new VM (bounded per host and in
total), reconfigure/power existing ones, wait for guest IPs, and report every VM."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from vhpc_toolkit.cluster.cloning.specs import build_clone_spec, build_instant_clone_spec
from vhpc_toolkit.cluster.guests.setup import finish, remaining_strays, states
from vhpc_toolkit.cluster.cloning.run import clone_jobs, cloning_dict, copy_notes, replace_stale_copies, run_clones
from vhpc_toolkit.cluster.guests.customization import open_watch, settle_guests
from vhpc_toolkit.cluster.planning.hardware import finish_upgrades, hold_back, task_phase, upgrade_to
from vhpc_toolkit.cluster.networks.pvrdma import apply_pvrdma
from vhpc_toolkit.cluster.planning.plan import CREATE, DRIFT as DRIFT_ACTION, RECONFIGURE, ClusterPlan, VMPlan
from vhpc_toolkit.cluster.state.result import ClusterResult, Stray, VMOutcome
from vhpc_toolkit.cluster.placement.rules import apply_rules, rule_status
from vhpc_toolkit.cluster.ownership.strays import LEFT, stray_row
from vhpc_toolkit.cluster.networks.switches import apply_switches
from vhpc_toolkit.cluster.applying.interrupted import report_interrupted, settle_uncertain
from vhpc_toolkit.cluster.applying.rollback import rollback
from vhpc_toolkit.cluster.applying.verify import check_vms, devices_of
from vhpc_toolkit.errors import ConnectionFailed, SessionLost, VhpcError
from vhpc_toolkit.ops.vms.linked import base_snapshot
from vhpc_toolkit.ops.vms.destroy import Doomed, power_off_and_destroy
from vhpc_toolkit.ops.vms.placement import ref_of
from vhpc_toolkit.ops.networks.portgroups import PROPS as NETWORK_PROPS, find_portgroup, portgroup_names_by_key
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Interrupted, Job
from vhpc_toolkit.phases import Phases, as_phases
from vhpc_toolkit.results import (CREATED, DESTROYED, DRIFT, FAILED, NOT_STARTED, POWERED_ON, RECONFIGURED,
                                  UP_TO_DATE, SwitchOutcome, TargetResult)
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.words import count, plural


@dataclass
class ApplyOptions:
    max_concurrency: int | None = None   # tasks in flight (None: clones as vCenter admits them, 32 others)
    max_per_host: int | None = None      # provisioning tasks per host, as source or destination (None: no cap)
    ip_timeout: float = 300.0
    rollback: bool = False
    password_for: Callable | None = None   # guest passwords for post scripts (ops.post.password_source)
    checks: bool = True                    # run the file's checks at the end (--no-checks: False)
    script_env: Callable | None = None     # VMSpec -> ["NAME=value"] for its post scripts (slurm/guest_env.py)


def _devices(plan: VMPlan, inv) -> list[str]:
    """An existing VM's devices as vCenter holds them; a new VM's as the file asks (until read back)."""
    if plan.existing is not None:
        return devices_of(plan.existing, portgroup_names_by_key(inv))
    vm = plan.spec
    out = [f"gpu {d}" + (" (dynamic)" if vm.dynamic else "") for d in vm.device or []]
    if plan.choice is not None:
        out += [f"gpu {g.id}" + (" (dynamic)" if plan.choice.dynamic else "") for g in plan.choice.gpus]
    out += [f"vgpu {q}" for q in vm.vgpus]
    out += [f"sriov {a.port_group}" for a in vm.sriov_adapters()]
    if vm.pvrdma_port_group:
        out.append(f"pvrdma {vm.pvrdma_port_group}")
    return out


def current_state(plan: ClusterPlan, session=None, options: ApplyOptions | None = None,
                  progress=None) -> ClusterResult:
    """The result of a run with nothing to do: every VM as it is, with its IP and any drift, its script
    steps (all finished) and, given a session and options, its checks."""
    switches = [SwitchOutcome(s.spec.name, s.spec.kind, list(s.spec.host), s.spec.port_group, detail=s.detail)
                for s in plan.switches]
    vms = []
    for p in plan.vms:
        vms.append(VMOutcome(name=p.name, host=p.host_name(plan.inv), action=p.action,
                             devices=_devices(p, plan.inv), status=DRIFT if p.drift else UP_TO_DATE,
                             detail="; ".join(p.drift), ip=p.existing.get("guest.ipAddress") if p.existing else None,
                             drift=list(p.drift), cpu=p.existing.get("config.hardware.numCPU") if p.existing else None,
                             ref=p.existing.ref if p.existing else None))
    result = ClusterResult(switches, vms, spec=plan.spec)
    existing = {p.name for p in plan.vms if p.existing is not None}
    result.rules = [o for o in (rule_status(r, existing) for r in plan.rules) if o is not None]   # as --status
    result.notes += stray_note(plan)
    if session is not None:
        finish(session, plan, result, options or ApplyOptions(), as_phases(progress))
    else:
        states(plan, result)
        result.strays = remaining_strays(plan, [])
    return result


def stray_note(plan: ClusterPlan) -> list[str]:
    if not plan.strays or plan.prune:
        return []
    mine = plan.prunable
    left = [o for o in plan.strays if o not in mine]
    notes = [f"{count(len(mine), 'VM')} {plural(len(mine), 'carries')} the file's naming pattern but {plural(len(mine), 'is')} not in it "
             f"({', '.join(o.name for o in mine)}); --prune destroys them"] if mine else []
    if left:
        notes.append(f"{', '.join(o.name for o in left)}: the file's naming pattern in its folder, {LEFT}")
    return notes


def apply_plan(session, plan: ClusterPlan, options: ApplyOptions, offers: dict,
               on_event: Callable[[Any], None] | None = None, progress: Phases | None = None,
               on_states: Callable | None = None) -> ClusterResult:
    """Switches, then every VM's task (bounded per host and in total), guest IPs, post scripts, checks.

    ``progress`` (vhpc_toolkit/phases.py) is told each phase and item; without it ``on_event`` gets
    each switch and VM as it is done. A connection or session lost for good ends the run with the
    report of which of the file's VMs exist (as Ctrl-C does), not with a bare error.
    """
    progress = progress if progress is not None else as_phases(on_event)
    inv = plan.inv
    outcomes = {p.name: VMOutcome(name=p.name, host=p.host_name(inv), action=p.action, devices=_devices(p, inv),
                                  ref=p.existing.ref if p.existing else None,
                                  cpu=p.existing.get("config.hardware.numCPU") if p.existing else None,
                                  placement=p.choice.to_dict() if p.choice is not None else None)
                for p in plan.vms}
    notes: list[str] = list(plan.notes)
    switches: list[SwitchOutcome] = []
    phase = ["the switches"]   # where the run is: said when it is interrupted
    try:
        result = _apply(session, plan, options, offers, outcomes, switches, notes, progress, phase, on_states)
    except ConnectionFailed as exc:
        why = "session ended" if isinstance(exc, SessionLost) else "connection lost"
        result = report_interrupted(session, plan, switches, outcomes, lost=str(exc), why=why)
    except (Interrupted, KeyboardInterrupt) as exc:   # Ctrl-C in any phase: the table of what exists
        for r in getattr(exc, "cancelled", []):
            if r.name in outcomes:
                outcomes[r.name].status, outcomes[r.name].detail = FAILED, r.detail
        for r in getattr(exc, "not_started", []):
            if r.name in outcomes:
                outcomes[r.name].status, outcomes[r.name].detail = NOT_STARTED, r.detail
        result = report_interrupted(session, plan, switches, outcomes, phase=phase[0])
    result.notes = notes + result.notes
    return result


def _switches(session, plan: ClusterPlan, notes: list[str], progress: Phases) -> list[SwitchOutcome]:
    if not any(sp.action == "create" for sp in plan.switches):
        return apply_switches(session, plan, None, notes)
    with progress.phase("switches", len(plan.switches)) as shown:
        return apply_switches(session, plan, shown, notes)


def _apply(session, plan: ClusterPlan, options: ApplyOptions, offers: dict, outcomes: dict,
           switches: list[SwitchOutcome], notes: list[str], progress: Phases, phase: list[str],
           on_states: Callable | None = None) -> ClusterResult:
    stopped = _switches_and_hosts(session, plan, outcomes, switches, notes, progress, phase)
    if stopped is not None:
        return stopped
    phase[0] = "--prune"
    pruned = _prune(session, plan, progress)
    phase[0] = "the clones and changes"
    event = _TaskEvents(plan, outcomes)
    # Opened before any clone boots: the customization events of this run come after it.
    watch = open_watch(session, plan)
    try:
        replace_stale_copies(session, plan, notes)
        held: dict = {}   # devices that wait for a clone's hardware upgrade (cluster/planning/hardware.py)
        jobs, copies = _clone_jobs(session, plan, offers, outcomes, switches, held)
        _power_off_to_resize(session, plan, outcomes, options, progress)
        # No units, but counted against --max-per-host and the cap on other operations (ops/admission.py).
        jobs += [Job(result=TargetResult(p.name), key=_host_key(p.existing),
                     start=lambda p=p: p.existing.ref.ReconfigVM_Task(spec=p.config_spec),
                     charges=lambda p=p: {_host_key(p.existing): 0})
                 for p in plan.vms if p.action == RECONFIGURE and p.config_spec is not None
                 and not outcomes[p.name].failed]
        if jobs:    # a run that only finishes script steps has no clone or change: no empty phase
            with progress.phase(_tasks_label(plan), sum(1 for j in jobs if j.result.name in event.plans)) as tasks:
                event.tasks = tasks
                # the tasks' states (running, queued in vCenter, waiting: ops/runner.TaskStates): a live
                # display is told at once, a log with its next heartbeat (no extra wait per round)
                run_clones(session, plan, jobs, options, event, on_states or getattr(tasks, "states", None),
                           wake_on_start=on_states is not None or getattr(tasks, "live", False))
        phase[0] = "the hardware upgrades"
        finish_upgrades(session, plan, outcomes, held, options.max_concurrency or DEFAULT_CONCURRENCY, progress)
        phase[0] = "the power-ons"
        _power_on_existing(session, plan, outcomes, options, progress)
        phase[0] = "the read-back"
        check_vms(session, plan, outcomes)   # one read: what vCenter holds (cluster/applying/verify.py)
        phase[0] = "the DRS rules"
        rules = apply_rules(session, plan.rules, {p.name: outcomes[p.name].ref for p in plan.vms
                                                  if outcomes[p.name].ref is not None and not outcomes[p.name].failed})
    except BaseException:   # Ctrl-C, a lost connection: apply_plan reports what exists
        if watch is not None:
            watch.close()
        raise
    if event.uncertain:
        settle_uncertain(session, plan, outcomes, event.uncertain)
    return _after_tasks(session, plan, options, outcomes, switches, pruned, rules, watch, progress, phase, copies)


def _switches_and_hosts(session, plan: ClusterPlan, outcomes: dict, switches: list[SwitchOutcome],
                        notes: list[str], progress: Phases, phase: list[str]) -> ClusterResult | None:
    """The file's switches, then the PVRDMA host preparation; when either fails, the run's result
    (no VM is created without its fabric), else None."""
    switches += _switches(session, plan, notes, progress)
    phase[0] = "the PVRDMA host preparation"
    failures = [] if any(s.failed for s in switches) else \
        apply_pvrdma(session, plan.pvrdma, {s.name: s for s in switches})
    if not any(s.failed for s in switches) and not failures:
        return None
    for s in switches:
        if failures and s.name in {p.switch for p in plan.pvrdma}:
            s.status = FAILED
    for o in outcomes.values():
        if o.action == CREATE:
            o.status, o.detail = FAILED, "not created: " + ("; ".join(failures) if failures else
                                                            "a switch of the file could not be created")
    result = ClusterResult(switches, list(outcomes.values()), spec=plan.spec)
    result.notes += failures
    return result


def _prune(session, plan: ClusterPlan, progress: Phases) -> list:
    """--prune: the file's strays destroyed (before any clone: what they held is free for the new VMs)."""
    if not plan.prune:
        return []
    mine = plan.prunable
    if not mine:
        return prune_strays(session, plan)
    with progress.phase("pruning", len(mine)) as shown:
        return prune_strays(session, plan, shown)


class _TaskEvents:
    """Each VM's outcome as its clone or reconfigure task ends (a copy of a template is no VM of the
    file); ``tasks``: the progress phase told of each."""

    def __init__(self, plan: ClusterPlan, outcomes: dict):
        self.plans = {p.name: p for p in plan.vms}
        self.outcomes = outcomes
        self.uncertain: list[str] = []    # calls whose answer was lost: vCenter may have made the VM
        self.tasks = None

    def __call__(self, result: TargetResult) -> None:
        if result.name not in self.plans:    # a copy of a template (cluster/cloning/run.py)
            return
        out, p = self.outcomes[result.name], self.plans[result.name]
        if result.data.get("uncertain"):
            self.uncertain.append(result.name)
        if result.failed:
            out.status, out.detail = FAILED, result.detail
        elif p.action == CREATE:
            out.status, out.detail = CREATED, ("instant clone, running" if p.spec.instant else
                                               "cloned" + (" and powered on" if p.spec.power == "on" else ""))
        else:
            out.status, out.detail = RECONFIGURED, "; ".join(str(c) for c in p.changes)
        if self.tasks is not None:
            self.tasks.done(out)


def _after_tasks(session, plan: ClusterPlan, options: ApplyOptions, outcomes: dict, switches, pruned, rules,
                 watch, progress: Phases, phase: list[str], copies=None) -> ClusterResult:
    """After the VMs' tasks: drift in the report, guest IPs, then guest setup and checks, --rollback."""
    for p in plan.vms:
        out = outcomes[p.name]
        out.drift = list(p.drift)
        if p.action == DRIFT_ACTION and out.status == UP_TO_DATE:
            out.status, out.detail = DRIFT, "; ".join(p.drift)
        elif p.drift and not out.failed:
            out.detail = "; ".join(filter(None, [out.detail] + p.drift))

    # Guest IPs (and customization outcomes): every VM that should be running, in one wait.
    running = [o for p, o in ((p, outcomes[p.name]) for p in plan.vms)
               if p.spec.power == "on" and not o.failed and o.ref is not None]
    phase[0] = "the wait for guest IPs"
    try:
        guest_notes = settle_guests(session, watch, plan, running, options.ip_timeout, progress) if running else []
    finally:
        if watch is not None:
            watch.close()
    result = ClusterResult(switches, [outcomes[p.name] for p in plan.vms], spec=plan.spec, pruned=pruned,
                           rules=rules)
    result.notes += guest_notes + stray_note(plan)
    if copies is not None:
        result.cloning = cloning_dict(plan.clones, copies.copy_results())
        result.notes += copy_notes(session, copies)
    # Scripts run on the file's VMs that exist and did not fail (cluster/guests/setup.py).
    skipped = [p.name for p in plan.vms if p.spec.scripts and outcomes[p.name].failed]
    scripts = not (options.rollback and result.failed)
    if not scripts and any(p.spec.scripts for p in plan.vms if p.action == CREATE):
        result.notes.append("post scripts not run: a VM failed and --rollback removes what this run created")
    elif skipped:
        result.notes.append(f"post scripts not run on {', '.join(skipped)}: the VM failed")
    phase[0] = "the post scripts and checks (scripts started go on in the guests)"
    finish(session, plan, result, options, progress, scripts=scripts)
    if options.rollback and (result.failed or result.post_failed):
        phase[0] = "--rollback"
        rollback(session, plan, result)
        states(plan, result)
    return result


def _tasks_label(plan: ClusterPlan) -> str:
    kinds = {p.action for p in plan.vms if p.action in (CREATE, RECONFIGURE)}
    return "cloning" if kinds == {CREATE} else "reconfiguring" if kinds == {RECONFIGURE} else \
        "cloning and reconfiguring"


def prune_strays(session, plan: ClusterPlan, on_event=None) -> list[Stray]:
    """--prune: destroy the VMs of the file's naming pattern that it no longer has."""
    mine = plan.prunable
    doomed = [Doomed(o.ref, o.get("runtime.powerState") != "poweredOff", TargetResult(o.name)) for o in mine]
    power_off_and_destroy(session, doomed, on_event=on_event)
    out = [stray_row(plan.inv, o, power_state=None, status=FAILED if d.result.failed else DESTROYED,
                     detail=d.result.detail) for o, d in zip(mine, doomed)]
    out += [stray_row(plan.inv, o, detail=LEFT) for o in plan.strays if o not in mine]
    return sorted(out, key=lambda s: s.name)


def _host_key(vm) -> str:
    host = vm.get("runtime.host")
    return host._moId if host is not None else ""


def _clone_jobs(session, plan: ClusterPlan, offers: dict, outcomes: dict, switches, held: dict):
    """One CloneVM_Task job per new VM, from the source the clone plan gives it, after the copies of
    the template it makes (cluster/cloning/run.py); a VM whose spec cannot be built fails alone. A VM
    to upgrade after its clone is cloned powered off, its held-back devices put in ``held``."""
    inv = plan.inv
    copies = clone_jobs(plan.clones) if plan.clones is not None else None
    # Port groups made just now are only known after the switches exist: read networks again.
    net_inv = read_inventory(session, {k: list(v) for k, v in NETWORK_PROPS.items()}) \
        if any(s.status == CREATED for s in switches) else inv
    jobs, base_snapshots = list(copies.copies) if copies is not None else [], {}
    for p in (p for p in plan.vms if p.action == CREATE):
        out = outcomes[p.name]
        dc = inv.ancestor(p.placement.host, "Datacenter")

        def find_pg(name, dvs_name, dc=dc):
            return find_portgroup(net_inv, name, net_inv.by_ref(dc.ref) if dc else None, dvs_name)

        try:
            base = None
            if p.spec.linked:
                if p.template.moid not in base_snapshots:
                    base_snapshots[p.template.moid] = base_snapshot(session, p.template)
                base = base_snapshots[p.template.moid]
            spec = build_instant_clone_spec(p, owner=plan.owner) if p.spec.instant else \
                build_clone_spec(p, inv, offers.get(p.placement.host.moid), find_pg, base, owner=plan.owner)
            if upgrade_to(p):
                held[p.name] = hold_back(spec)
        except (VhpcError, ValueError, KeyError) as exc:
            out.status, out.detail = FAILED, f"clone spec: {exc}"
            continue

        def created(vm_ref, out=out):
            out.ref = vm_ref

        if copies is not None:
            jobs.append(copies.vm_job(p, spec, TargetResult(p.name), created))
            continue
        if p.spec.instant:   # a fork of the running source: InstantClone_Task (vSphere 6.7+)
            start = (lambda p=p, spec=spec: p.template.ref.InstantClone_Task(spec=spec))
        else:
            start = (lambda p=p, spec=spec: p.template.ref.CloneVM_Task(
                folder=ref_of(p.placement.folder), name=p.name, spec=spec))
        jobs.append(Job(result=TargetResult(p.name), key=p.placement.host.moid, on_success=created, start=start))
    return jobs, copies


def _power_off_to_resize(session, plan: ClusterPlan, outcomes: dict, options: ApplyOptions,
                         progress: Phases) -> None:
    """Running VMs whose cpu/memory must change (only with --allow-power-off) are powered off first."""
    refs = {p.name: p.existing.ref for p in plan.vms if p.action == RECONFIGURE and p.power_cycle}
    task_phase(session, outcomes, list(refs), "power off for resize", lambda n: refs[n].PowerOffVM_Task(),
               options.max_concurrency or DEFAULT_CONCURRENCY, progress)


def _power_on_existing(session, plan: ClusterPlan, outcomes: dict, options: ApplyOptions,
                       progress: Phases | None = None) -> None:
    """Existing VMs the file wants on (and those powered off to be resized)."""
    refs = {p.name: p.existing.ref for p in plan.vms
            if p.power_on and (not outcomes[p.name].failed or p.power_cycle)}
    for name in task_phase(session, outcomes, list(refs), "power on", lambda n: refs[n].PowerOnVM_Task(),
                           options.max_concurrency or DEFAULT_CONCURRENCY, progress or Phases()):
        out = outcomes[name]
        out.detail = (out.detail + "; " if out.status == RECONFIGURED else "") + "powered on"
        if out.status != RECONFIGURED:
            out.status = POWERED_ON
