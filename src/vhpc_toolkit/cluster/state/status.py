"""`cluster --status`: the file against vCenter, read-only, from one inventory read."""
from __future__ import annotations

from typing import Callable

from vhpc_toolkit.cluster.guests.checks import check_rows, run_file_checks
from vhpc_toolkit.cluster.guests.scripts import step_contents, step_states, summary as script_summary
from vhpc_toolkit.cluster.planning.plan import CREATE, DRIFT as DRIFT_ACTION, ELASTIC_ABSENT, RECONFIGURE, plan_cluster
from vhpc_toolkit.cluster.planning.read import read_cluster_inventory
from vhpc_toolkit.cluster.state.result import ClusterStatus, VMOutcome
from vhpc_toolkit.cluster.placement.rules import plan_rules, rule_status
from vhpc_toolkit.cluster.ownership.strays import LEFT, made_by_file, stray_row, strays
from vhpc_toolkit.cluster.applying.verify import devices_of
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.ops.networks.portgroups import portgroup_names_by_key
from vhpc_toolkit.ops.post.steps import StepRecord, record_of
from vhpc_toolkit.results import ABSENT, DRIFT, INCOMPLETE, UP_TO_DATE, SwitchOutcome
from vhpc_toolkit.vsphere.inventory import Inventory, Obj


def _host_name(inv: Inventory, vm: Obj) -> str | None:
    host = inv.by_ref(vm.get("runtime.host"))
    return host.name if host else None


def cluster_status(session, spec: ClusterSpec, password_for: Callable | None = None, *, allow_drift: bool = False,
                   progress=None) -> ClusterStatus:
    """The file against vCenter, from one inventory read; with ``password_for`` (guest passwords,
    ops/post.password_source) also the file's checks, run in the guests."""
    inv = read_cluster_inventory(session, spec)
    plan = plan_cluster(inv, spec)
    pg_names = portgroup_names_by_key(inv)
    contents = step_contents(spec)
    vms = []
    for p in plan.vms:
        out = VMOutcome(name=p.name, action=p.action)
        if p.existing is None and p.spec.elastic:   # Slurm's to create: nothing differs
            out.detail = ELASTIC_ABSENT
            vms.append(out)
            continue
        if p.spec.scripts:
            out.steps = step_states(p.spec, record_of(p.existing) if p.existing else StepRecord(), contents)
        if p.existing is None:
            out.status = ABSENT
            out.detail = "not on vCenter (cluster --create makes it)" if p.action == CREATE else "; ".join(p.drift)
            vms.append(out)
            continue
        out.host, out.ip = _host_name(inv, p.existing), p.existing.get("guest.ipAddress")
        out.devices = devices_of(p.existing, pg_names)
        out.pending = [str(c) for c in p.changes] if p.action == RECONFIGURE else []
        if p.power_on:
            out.pending.append(f"{p.existing.get('runtime.powerState')}; the file wants it on")
        differences = out.pending + p.drift
        out.drift = differences
        out.status = DRIFT if differences or p.action == DRIFT_ACTION else UP_TO_DATE
        out.detail = "; ".join(filter(None, differences + [script_summary(out.steps or [])]))
        vms.append(out)
    switches = [SwitchOutcome(s.spec.name, s.spec.kind, list(s.spec.host), s.spec.port_group,
                              status=UP_TO_DATE if s.action != "create" else (INCOMPLETE if s.exists else ABSENT),
                              detail=s.detail) for s in plan.switches]
    stray = [stray_row(inv, o, detail="" if made_by_file(o, spec) else LEFT) for o in strays(inv, spec)]
    existing = {p.name for p in plan.vms if p.existing is not None}
    rules = [o for o in (rule_status(r, existing) for r in plan_rules(plan)) if o is not None]
    status = ClusterStatus(switches, vms, stray, spec=spec, rules=rules, allow_drift=allow_drift)
    if password_for is not None:
        objs = {p.name: p.existing for p in plan.vms if p.existing is not None}
        status.checks = run_file_checks(session, spec, objs, password_for, progress=progress)
        rows = check_rows(status.checks)
        for out in vms:
            if out.name in rows:
                out.checks = rows[out.name]
    return status
