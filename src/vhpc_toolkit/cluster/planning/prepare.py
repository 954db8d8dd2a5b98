"""Prepare a cluster run in one call: read, plan, check everything; every problem before any change.

The CLI only confirms and renders: ``prepare_create`` either returns a run that can go
ahead, or raises ValidationFailed listing every problem found (file and line each).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from vhpc_toolkit.cluster.cloning.run import plan_clone_run
from vhpc_toolkit.cluster.applying.destroy import DestroyPlan, plan_destroy
from vhpc_toolkit.cluster.guests.checks import check_contents
from vhpc_toolkit.cluster.planning.devices import check_devices
from vhpc_toolkit.cluster.planning.hardware import check_hardware
from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan, plan_cluster
from vhpc_toolkit.cluster.planning.problems import problems_by_vm, said_once
from vhpc_toolkit.cluster.networks.ports import check_ports
from vhpc_toolkit.cluster.networks.pvrdma import plan_pvrdma
from vhpc_toolkit.cluster.planning.read import read_cluster_inventory
from vhpc_toolkit.cluster.placement.rules import drs_off_warnings, plan_rules
from vhpc_toolkit.cluster.guests.scripts import step_contents, step_states
from vhpc_toolkit.cluster.planning.space import space_problems
from vhpc_toolkit.cluster.ownership.strays import made_by_file, strays
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.errors import ValidationFailed, VhpcError
from vhpc_toolkit.ops.post.steps import StepRecord, record_of


@dataclass
class PreparedCreate:
    plan: ClusterPlan
    offers: dict                     # host moid -> HostOffer, for the hosts new VMs with devices land on
    password_for: Callable | None    # guest password of a VMSpec, checked for every VM that runs scripts


def _check_passwords(plan: ClusterPlan, password_for: Callable | None, checks: bool) -> None:
    """Every VM this run runs scripts or checks in has a guest password (looked up now, not mid-run)."""
    pending = set(plan.scripts_pending)
    for p in plan.vms:
        if not (p.name in pending or (p.action == CREATE and p.spec.scripts) or (checks and p.spec.checks)):
            continue
        try:
            if password_for is None:
                raise VhpcError("no source of guest passwords")
            password_for(p.spec)
        except VhpcError as exc:
            plan.problems.append(f"{plan.spec.path}:{p.spec.line}: VM {p.name}: {exc}")


def _plan_steps(plan: ClusterPlan, rerun: bool, checks: bool) -> None:
    """Each VM's script steps against the record it carries (a VM made by this run has none); the
    scripts and checks are read now, before any change."""
    plan.contents = step_contents(plan.spec)
    if checks:
        plan.contents.update(check_contents(plan.spec))
    plan.rerun_scripts = rerun
    plan.steps = {p.name: step_states(p.spec, record_of(p.existing) if p.existing is not None else StepRecord(),
                                      plan.contents)
                  for p in plan.vms if p.spec.scripts}


def prepare_create(session, spec: ClusterSpec, allow_power_off: bool = False,
                   password_for: Callable | None = None, prune: bool = False, rerun_scripts: bool = False,
                   checks: bool = True, *, elastic: bool = False, held: Callable | None = None,
                   template_copies: bool = True) -> PreparedCreate:
    """``elastic`` and ``held`` are the Slurm programs' (slurm/power.py): ``spec`` is then the nodes of
    one resume, planned as any VM (plan_cluster), and ``held(inv)`` what other runs hold that the read
    does not show yet (cluster/placement.Held). Their other nodes are not strays of the file.
    ``template_copies``: the run may make copies of a template as extra clone sources (a cluster's)."""
    inv = read_cluster_inventory(session, spec)
    stray = [] if elastic else strays(inv, spec)
    # --prune destroys the file's strays before any clone: what they hold (GPUs, virtual functions,
    # memory, ports) is free for the VMs this run places.
    doomed = {o.moid for o in stray if made_by_file(o, spec)} if prune else set()
    plan = plan_cluster(inv.without(doomed) if doomed else inv, spec, allow_power_off=allow_power_off,
                        elastic=elastic, held=held(inv) if held else ())
    plan.strays, plan.prune = stray, prune
    offers = check_devices(session, plan)
    check_hardware(plan)
    plan.pvrdma = plan_pvrdma(session, plan)
    plan.rules = plan_rules(plan)
    plan.warnings += drs_off_warnings(plan)
    check_ports(plan)
    _plan_steps(plan, rerun_scripts, checks)
    _check_passwords(plan, password_for, checks)
    plan.clones = plan_clone_run(plan, clone_model(session, plan), template_copies)   # cluster/cloning/run.py
    plan.problems += space_problems(plan, plan.clones)   # the clones and the copies fit (cluster/planning/space.py)
    if plan.problems:
        raise ValidationFailed(said_once(plan.problems, spec.path),
                               by_vm=problems_by_vm(plan.problems, spec.path))
    return PreparedCreate(plan, offers, password_for)


def clone_model(session, plan: ClusterPlan):
    """vCenter's admission model of the session (vCenter.conf), with the clone time measured by the last
    run here when vCenter.conf gives none (the template with the most new VMs)."""
    from collections import Counter

    from vhpc_toolkit.cluster.cloning.times import remembered
    from vhpc_toolkit.settings.admission import admission_of

    model = admission_of(session)
    names = Counter(p.template.name for p in plan.vms if p.action == CREATE and p.template is not None)
    if model.clone_time is None and names:
        template = names.most_common(1)[0][0]
        model = model.with_clone_time(remembered(f"{session.server}:{session.port}", template),
                                      f"measured by the last run on this machine ({template})")
    return model


def prepare_destroy(session, spec: ClusterSpec, keep_copies: bool = False) -> DestroyPlan:
    return plan_destroy(session, spec, keep_copies=keep_copies)
