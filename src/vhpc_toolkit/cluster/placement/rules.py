"""DRS anti-affinity rules from the file: ``anti_affinity: GROUP`` keeps the group's VMs on different hosts.

vSphere keeps such a rule on the cluster (``ClusterAntiAffinityRuleSpec`` in
``configurationEx.rule``, changed by ``ReconfigureComputeResource_Task``): DRS refuses to power on a
VM of the rule on a host where another VM of it runs (``RuleViolation``). The planner
(cluster/placement/planner.py) places the group apart and refuses pinned hosts that break it; this module
creates the rule (named after the group) with the cluster, adds the VMs a re-run creates, and
removes it with the cluster. A rule lists at least two VMs (the vSphere Client asks for two).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.results import ABSENT, CREATED, DESTROYED, DRIFT, FAILED, INCOMPLETE, RECONFIGURED, UP_TO_DATE
from vhpc_toolkit.vsphere.inventory import Inventory, Obj
from vhpc_toolkit.words import count


@dataclass
class RulePlan:
    """The rule of one group in one cluster: what exists and the file's VMs it must list."""

    cluster: Obj
    group: str
    rule: Any = None                                    # the cluster's rule of that name, if any
    vms: list[str] = field(default_factory=list)        # the file's VMs of the group in this cluster
    missing: list[str] = field(default_factory=list)    # of those, the ones the rule does not list yet

    @property
    def pending(self) -> bool:
        return len(self.vms) >= 2 and (self.rule is None or bool(self.missing))


@dataclass
class RuleOutcome:
    name: str
    cluster: str
    status: str = UP_TO_DATE
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def to_dict(self) -> dict:
        return {"name": self.name, "cluster": self.cluster, "status": self.status, "detail": self.detail}


def drs_enabled(cluster: Obj) -> bool:
    """DRS on (``configurationEx.drsConfig.enabled``): only then does vCenter enforce VM-VM rules."""
    drs = getattr(cluster.get("configurationEx"), "drsConfig", None)
    return bool(getattr(drs, "enabled", False))


def drs_off_warnings(plan) -> list[str]:
    """A group's rule on a cluster with DRS off is stored but not enforced (vSphere Resource Management,
    "VM-VM Affinity Rules": DRS keeps the VMs apart): power-ons and moves by others may put the group's
    VMs together. One warning per such group and cluster, at the group's first VM's line."""
    out = []
    for rp in plan.rules:
        if len(rp.vms) < 2 or drs_enabled(rp.cluster):
            continue
        line = next((p.spec.line for p in plan.vms if p.name == rp.vms[0]), 0)
        out.append(f"{plan.spec.path}:{line}: anti_affinity {rp.group}: cluster {rp.cluster.name} has DRS off, so "
                   "vCenter stores the rule but does not enforce it (a VM powered on or moved later may land beside "
                   "another of the group); turn DRS on to have it kept")
    return out


def cluster_rules(cluster: Obj) -> list:
    return list(getattr(cluster.get("configurationEx"), "rule", None) or [])


def _anti_affinity(cluster: Obj, name: str):
    from pyVmomi import vim

    return next((r for r in cluster_rules(cluster) if isinstance(r, vim.cluster.AntiAffinityRuleSpec)
                 and r.name == name), None)


def plan_rules(plan) -> list[RulePlan]:
    """One RulePlan per (cluster, group) of the file's VMs (a cluster/plan.ClusterPlan)."""
    inv: Inventory = plan.inv
    out: dict[tuple[str, str], RulePlan] = {}
    for p in plan.vms:
        group = p.spec.anti_affinity
        if not group:
            continue
        if p.existing is not None:
            host = inv.by_ref(p.existing.get("runtime.host"))
            cluster = inv.ancestor(host, "ClusterComputeResource") if host else None
        else:
            cluster = p.placement.cluster if p.placement is not None else None
        if cluster is None or cluster.type != "ClusterComputeResource":
            continue
        rp = out.setdefault((cluster.moid, group), RulePlan(cluster, group, _anti_affinity(cluster, group)))
        rp.vms.append(p.name)
        listed = {ref._moId for ref in (rp.rule.vm or [])} if rp.rule is not None else set()
        if p.existing is None or p.existing.moid not in listed:
            rp.missing.append(p.name)
    return list(out.values())


def rule_rows(rules: list[RulePlan]) -> list[dict]:
    """What a create will do with the DRS rules, for display before the confirmation."""
    rows = []
    for r in rules:
        if not r.pending:
            continue
        action = "create" if r.rule is None else "add " + ", ".join(r.missing)
        rows.append({"name": r.group, "cluster": r.cluster.name, "action": action,
                     "detail": f"anti-affinity: {', '.join(r.vms)} on different hosts"})
    return rows


def rule_status(r: RulePlan, existing: set[str]) -> RuleOutcome | None:
    """`cluster --status`: the group's rule as vCenter has it against the file's VMs that exist
    (``existing``: their names). None when there is nothing to say: no rule and fewer than two of
    its VMs exist (a rule needs two)."""
    have = [n for n in r.vms if n in existing]
    out = RuleOutcome(r.group, r.cluster.name, detail=f"{count(len(have), 'VM')} on different hosts")
    if r.rule is None:
        if len(have) < 2:
            return None
        out.status, out.detail = ABSENT, "no DRS rule on vCenter (cluster --create makes it)"
        return out
    unlisted = [n for n in r.missing if n in existing]
    if unlisted:
        out.status, out.detail = INCOMPLETE, f"does not list {', '.join(unlisted)} (cluster --create adds them)"
    elif rule_drift(r.rule):
        out.status, out.detail = DRIFT, rule_drift(r.rule)
    return out


def rule_drift(rule) -> str:
    """How a rule on vCenter differs in what --create does not change ("" when it does not)."""
    if not rule.enabled:
        return "disabled on vCenter"
    if rule.inCompliance is False:
        return "not in compliance: VMs of the group run on one host"
    return ""


def apply_rules(session, rules: list[RulePlan], refs: dict[str, Any]) -> list[RuleOutcome]:
    """Create or complete each pending rule with the VMs that exist (``refs``: VM name -> reference);
    one ReconfigureComputeResource_Task per cluster, waited on together."""
    from pyVmomi import vim

    from vhpc_toolkit.vsphere.tasks import wait_for_tasks

    outcomes, specs = [], {}
    for r in rules:
        out = RuleOutcome(r.group, r.cluster.name, detail=f"{count(len(r.vms), 'VM')} on different hosts")
        outcomes.append(out)
        vms = [refs[n] for n in r.vms if n in refs]
        if not r.pending:
            if r.rule is not None and rule_drift(r.rule):   # as --status says it (cluster/state/verdict.py)
                out.status, out.detail = DRIFT, rule_drift(r.rule)
            continue
        if len(vms) < 2:
            out.detail = "fewer than two of its VMs exist: no rule"
            continue
        if r.rule is None:
            info = vim.cluster.AntiAffinityRuleSpec(name=r.group, enabled=True, vm=vms)
            spec = vim.cluster.RuleSpec(operation="add", info=info)
            out.status, out.detail = CREATED, f"created: {len(vms)} VMs on different hosts"
        else:
            known = {ref._moId for ref in r.rule.vm or []}
            info = vim.cluster.AntiAffinityRuleSpec(key=r.rule.key, name=r.rule.name, enabled=r.rule.enabled,
                                                    mandatory=r.rule.mandatory,
                                                    vm=list(r.rule.vm or []) + [v for v in vms if v._moId not in known])
            spec = vim.cluster.RuleSpec(operation="edit", info=info)
            out.status, out.detail = RECONFIGURED, f"added {', '.join(n for n in r.missing if n in refs)}"
        specs.setdefault(r.cluster.moid, (r.cluster, []))[1].append((spec, out))
    tasks = {}
    for cluster, pairs in specs.values():
        task = cluster.ref.ReconfigureComputeResource_Task(
            spec=vim.cluster.ConfigSpecEx(rulesSpec=[s for s, _ in pairs]), modify=True)
        tasks[task._moId] = (task, pairs)
    for moid, outcome in wait_for_tasks(session, [t for t, _ in tasks.values()]).items():
        if not outcome.ok:
            for _, out in tasks[moid][1]:
                out.status, out.detail = FAILED, f"DRS rule not set: {outcome.error}"
    return outcomes


def rollback_rules(session, rules: list[RulePlan], outcomes: list[RuleOutcome]) -> list[str]:
    """--rollback: remove the rules this run created (a rule it completed loses the destroyed VMs by
    itself: vCenter takes a removed VM out of its rules)."""
    from vhpc_toolkit.vsphere.inventory import read_objects

    made = {(o.cluster, o.name) for o in outcomes if o.status == CREATED}
    plans = [r for r in rules if (r.cluster.name, r.group) in made]
    if not plans:
        return []
    now = read_objects(session, [r.cluster.ref for r in plans], ["name", "configurationEx"])
    doomed = [(now[r.cluster.moid], rule) for r in plans if r.cluster.moid in now
              for rule in [_anti_affinity(now[r.cluster.moid], r.group)] if rule is not None]
    gone = remove_rules(session, doomed)
    for o in outcomes:
        if any(g.cluster == o.cluster and g.name == o.name and not g.failed for g in gone):
            o.status, o.detail = DESTROYED, "created, then removed by --rollback"
    return [f"--rollback removed DRS rule(s) {', '.join(g.name for g in gone if not g.failed)}"] if gone else []


def rules_to_remove(inv: Inventory, spec, doomed: list[Obj]) -> list[tuple[Obj, Any]]:
    """(cluster, rule) of the file's groups whose VMs are all among those being destroyed."""
    groups = {vm.anti_affinity for vm in spec.vms if vm.anti_affinity}
    gone = {o.moid for o in doomed}
    out = []
    for cluster in inv.of_type("ClusterComputeResource"):
        for group in sorted(groups):
            rule = _anti_affinity(cluster, group)
            # A rule emptied by hand (vSphere keeps it) goes too: it names the file's group and holds nothing.
            if rule is not None and all(ref._moId in gone for ref in rule.vm or []):
                out.append((cluster, rule))
    return out


def remove_rules(session, rules: list[tuple[Obj, Any]]) -> list[RuleOutcome]:
    """Remove the rules (one task per cluster, after their VMs are gone)."""
    from pyVmomi import vim

    from vhpc_toolkit.vsphere.tasks import wait_for_tasks

    by_cluster: dict[str, tuple[Obj, list]] = {}
    for cluster, rule in rules:
        by_cluster.setdefault(cluster.moid, (cluster, []))[1].append(rule)
    outcomes, tasks = [], {}
    for cluster, found in by_cluster.values():
        outs = [RuleOutcome(r.name, cluster.name, DESTROYED, "removed") for r in found]
        outcomes += outs
        task = cluster.ref.ReconfigureComputeResource_Task(spec=vim.cluster.ConfigSpecEx(rulesSpec=[
            vim.cluster.RuleSpec(operation="remove", removeKey=r.key) for r in found]), modify=True)
        tasks[task._moId] = (task, outs)
    for moid, outcome in wait_for_tasks(session, [t for t, _ in tasks.values()]).items():
        if not outcome.ok:
            for out in tasks[moid][1]:
                out.status, out.detail = FAILED, f"not removed: {outcome.error}"
    return outcomes
