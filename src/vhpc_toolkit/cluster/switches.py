"""A cluster file's switches: created before its VMs, rolled back or destroyed after them."""
from __future__ import annotations

from typing import Callable

from vhpc_toolkit.cluster.plan import ClusterPlan
from vhpc_toolkit.ops.switches import create_dvs, create_svs, destroy_dvs, destroy_svs
from vhpc_toolkit.results import CHANGED, CREATED, DESTROYED, FAILED, ROLLED_BACK, SwitchOutcome


def apply_switches(session, plan: ClusterPlan, on_event: Callable | None = None) -> list[SwitchOutcome]:
    """Create (or complete) every switch the plan says to; the others are reported up to date."""
    outcomes = []
    for sp in plan.switches:
        sw = sp.spec
        out = SwitchOutcome(sw.name, sw.kind, list(sw.host), sw.port_group, detail=sp.detail)
        if sp.action == "create":
            if sw.kind == "svs":
                report = create_svs(session, sw.name, sw.host, sw.pnic[0] if sw.pnic else None, sw.port_group,
                                    mtu=sw.mtu)
            else:
                report = create_dvs(session, sw.name, sw.host, sw.pnic, sw.port_group, sw.datacenter, mtu=sw.mtu)
            out.status = FAILED if report.failed else CREATED
            # What --rollback may remove: only what this run made.
            out.created_hosts = [r.name for r in report.results if r.status == CHANGED] if sw.kind == "svs" else []
            out.new = not sp.exists
            out.detail = "; ".join(f"{r.name}: {r.detail}" for r in report.failed) or report.summary()
        outcomes.append(out)
        if on_event:
            on_event(out)
    return outcomes


def rollback_switches(session, switches: list[SwitchOutcome]) -> list[str]:
    """Remove what this run made of its switches; returns notes for what it left."""
    notes = []
    for out in switches:
        if out.status != CREATED:
            continue
        if out.kind == "svs" and out.created_hosts:
            report = destroy_svs(session, out.name, out.created_hosts)
        elif out.kind == "dvs" and out.new:
            report = destroy_dvs(session, out.name)
        else:
            notes.append(f"--rollback left switch {out.name}: it existed before this run")
            continue
        out.status = FAILED if report.failed else ROLLED_BACK
        out.detail = report.summary()
    return notes


def destroy_switches(session, specs) -> list[SwitchOutcome]:
    """`cluster --destroy`: the file's switches that exist (after their VMs are gone)."""
    outcomes = []
    for sw in specs:
        report = destroy_svs(session, sw.name, sw.host) if sw.kind == "svs" else destroy_dvs(session, sw.name)
        outcomes.append(SwitchOutcome(sw.name, sw.kind, list(sw.host), sw.port_group,
                                      status=FAILED if report.failed else DESTROYED, detail=report.summary()))
    return outcomes
