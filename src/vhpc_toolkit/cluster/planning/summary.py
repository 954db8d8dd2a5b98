"""The one line above every confirmation: ``Plan: 12 to create, 2 to change, 0 to destroy, 1 switch to
create``, and the same counts in the JSON result (``plan``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@dataclass
class PlanCounts:
    """What a run will do: VMs to create, change (reconfigure or power on) and destroy; switches to
    create, change (hosts or a port group to add) and destroy; hosts to prepare for PVRDMA; DRS rules
    to create or complete."""

    create: int = 0
    change: int = 0
    destroy: int = 0
    switch_create: int = 0
    switch_change: int = 0
    switch_destroy: int = 0
    host_prepare: int = 0
    rule_change: int = 0

    def line(self) -> str:
        parts = [f"{self.create} to create", f"{self.change} to change", f"{self.destroy} to destroy"]
        if self.switch_create or not self.switch_destroy:   # a create, or nothing to say of switches
            parts.append(_count(self.switch_create, "switch", "switches") + " to create")
        if self.switch_destroy:
            parts.append(_count(self.switch_destroy, "switch", "switches") + " to destroy")
        if self.switch_change:
            parts.append(_count(self.switch_change, "switch", "switches") + " to complete")
        if self.host_prepare:
            parts.append(_count(self.host_prepare, "host", "hosts") + " to prepare for PVRDMA")
        if self.rule_change:
            parts.append(_count(self.rule_change, "DRS rule", "DRS rules") + " to write")
        return "Plan: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


def create_counts(plan) -> PlanCounts:
    """The counts of a ``cluster --create`` plan (cluster/plan.ClusterPlan)."""
    from vhpc_toolkit.cluster.planning.plan import CREATE, RECONFIGURE

    return PlanCounts(
        create=sum(p.action == CREATE for p in plan.vms),
        change=sum(p.action == RECONFIGURE or (p.action != CREATE and p.power_on) for p in plan.vms),
        destroy=len(plan.prunable) if plan.prune else 0,
        switch_create=sum(s.action == "create" and not s.exists for s in plan.switches),
        switch_change=sum(s.action == "create" and s.exists for s in plan.switches),
        host_prepare=len({s.host.moid for p in plan.pvrdma for s in p.pending}),
        rule_change=sum(bool(r.pending) for r in plan.rules))


def destroy_counts(plan) -> PlanCounts:
    """The counts of a ``cluster --destroy`` plan (cluster/destroy.DestroyPlan)."""
    return PlanCounts(destroy=len(plan.present), switch_destroy=len(plan.switches))
