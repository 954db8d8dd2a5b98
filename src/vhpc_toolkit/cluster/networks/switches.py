"""A cluster file's switches: created before its VMs, rolled back or destroyed after them."""
from __future__ import annotations

from typing import Callable

from vhpc_toolkit.cluster.planning.plan import ClusterPlan
from vhpc_toolkit.marks import svs_mark, with_dvs_mark
from vhpc_toolkit.errors import ValidationFailed
from vhpc_toolkit.ops.networks.distributed import create_dvs, destroy_dvs
from vhpc_toolkit.ops.networks.standard import create_svs, destroy_svs
from vhpc_toolkit.results import CHANGED, CREATED, FAILED, ROLLED_BACK, SwitchOutcome


def _hosts_with(plan: ClusterPlan, name: str) -> set[str]:
    return {h.name for h in plan.inv.of_type("HostSystem")
            if any(v.name == name for v in h.get("config.network.vswitch") or [])}


def apply_switches(session, plan: ClusterPlan, on_event: Callable | None = None,
                   notes: list[str] | None = None) -> list[SwitchOutcome]:
    """Create (or complete) every switch the plan says to; the others are reported up to date.

    What this run creates carries the cluster's mark (marks.py): a new distributed switch in its
    description, a standard switch as a mark port group where this run adds it; a mark that could
    not be written is a note in ``notes``.
    """
    outcomes = []
    for sp in plan.switches:
        sw = sp.spec
        out = SwitchOutcome(sw.name, sw.kind, list(sw.host), sw.port_group, detail=sp.detail)
        if sp.action == "create":
            had = _hosts_with(plan, sw.name) if sw.kind == "svs" else set()
            if sw.kind == "svs":
                report = create_svs(session, sw.name, sw.host, sw.pnic[0] if sw.pnic else None, sw.port_group,
                                    mtu=sw.mtu, mark_port_group=svs_mark(plan.spec.name, sw.name))
            else:
                report = create_dvs(session, sw.name, sw.host, sw.pnic, sw.port_group, sw.datacenter, mtu=sw.mtu,
                                    description=with_dvs_mark(None, plan.spec.name))
            out.status = FAILED if report.failed else CREATED
            # What this run made (--rollback may remove it; it carries the file's mark): the
            # switch on hosts that did not have it, a distributed switch that did not exist.
            out.created_hosts = [r.name for r in report.results if r.status == CHANGED and r.name not in had] \
                if sw.kind == "svs" else []
            out.new = not sp.exists and not report.failed
            out.detail = "; ".join(f"{r.name}: {r.detail}" for r in report.failed) or report.details()
            if notes is not None:
                notes += report.warnings()
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
            report = destroy_svs(session, out.name, out.created_hosts, force=True)   # only its own VMs used it
        elif out.kind == "dvs" and out.new:
            try:
                report = destroy_dvs(session, out.name)
            except ValidationFailed as exc:   # another of its name appeared since: not guessed
                notes.append(f"--rollback left switch {out.name}: {exc.problems[0]}")
                continue
        else:
            notes.append(f"--rollback left switch {out.name}: it existed before this run")
            continue
        out.status = FAILED if report.failed else ROLLED_BACK
        out.detail = report.summary()
    return notes
