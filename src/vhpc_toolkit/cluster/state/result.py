"""What a cluster run reports: every VM and switch of the file, the post scripts, notes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.results import FAILED_STATUSES, UP_TO_DATE, Report, SwitchOutcome
from vhpc_toolkit.words import count, plural


def tally(vms: list, switches: list) -> str:
    """``8 VMs: 7 created, 1 failed``; a file of switches only: ``1 switch: 1 absent`` (never "0 VMs: ")."""
    things, noun = (switches, "switch") if switches and not vms else (vms, "VM")
    counts: dict[str, int] = {}
    for t in things:
        counts[t.status] = counts.get(t.status, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return count(len(things), noun) + (f": {parts}" if parts else "")


@dataclass
class VMOutcome:
    """One VM of the file after a run: where it is, its IP, what happened to it."""

    name: str
    host: str | None = None
    action: str = "nothing"
    status: str = UP_TO_DATE      # created | reconfigured | powered on | up to date | drift | failed | rolled back
    ip: str | None = None
    devices: list[str] = field(default_factory=list)
    detail: str = ""
    ref: Any = None
    drift: list[str] = field(default_factory=list)   # how it still differs from the file after the run
    cpu: int | None = None                           # vCPUs as vCenter reports them (exports)
    unapplied: list[str] = field(default_factory=list)   # what the run asked that vCenter does not hold
    placement: dict | None = None                        # what the planner chose (cluster/placement.Choice)
    steps: list | None = None          # cluster/scripts.StepState per script step (None: the VM has none)
    checks: list | None = None         # the VM's checks as run (cluster/checks.check_rows), None: not run
    pending: list[str] = field(default_factory=list)     # --status: what --create would change on it

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def to_dict(self) -> dict:
        doc = {"name": self.name, "host": self.host, "action": self.action, "status": self.status,
               "ip": self.ip, "devices": self.devices, "detail": self.detail}
        if self.placement is not None:
            doc["placement"] = self.placement
        if self.steps is not None:
            doc["scripts"] = [s.to_dict() for s in self.steps]
        if self.checks is not None:
            doc["checks"] = list(self.checks)
        return doc


@dataclass
class ClusterResult:
    """`cluster --create`: switches, VMs, post scripts (an ops.post PostReport, or None)."""

    switches: list[SwitchOutcome]
    vms: list[VMOutcome]
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False
    post: Any = None
    spec: Any = None                   # the ClusterSpec, for the text renderer's summary line
    pruned: list = field(default_factory=list)   # Stray: VMs --prune destroyed (or failed to)
    allow_drift: bool = False          # --allow-drift: VMs that still differ from the file are not a failure
    rules: list = field(default_factory=list)    # cluster/rules.RuleOutcome: DRS anti-affinity rules
    strays: list = field(default_factory=list)   # Stray: VMs of the file's pattern still there after the run
    checks: Any = None                 # the checks' PostReport (ops/post), or None when none ran
    plan: Any = None                   # cluster/summary.PlanCounts: what the run set out to do
    export_errors: list = field(default_factory=list)   # exports that could not be written (exit 1)
    cloning: dict | None = None        # how the new VMs were cloned (cluster/clone_run.cloning_dict)

    @property
    def post_failed(self) -> bool:
        return self.post is not None and not self.post.ok

    def verdict(self):
        """Whether the cluster now matches its file, and why not (cluster/state/verdict.py)."""
        from vhpc_toolkit.cluster.state.verdict import judge

        return judge(self.vms, self.switches, self.rules, self.strays, self.pruned, self.allow_drift)

    @property
    def failed(self) -> list:
        return [v for v in self.vms if v.failed] + [s for s in self.switches if s.failed] + \
            [p for p in self.pruned if p.failed] + [r for r in self.rules if r.failed]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.post_failed and not self.interrupted and self.verdict().ok \
            and not self.export_errors

    @property
    def up_to_date(self) -> bool:
        return all(v.status == UP_TO_DATE for v in self.vms) and \
            all(s.status == UP_TO_DATE for s in self.switches) and all(r.status == UP_TO_DATE for r in self.rules)

    def summary(self) -> str:
        return tally(self.vms, self.switches)

    def to_dict(self) -> dict:
        doc = {"up_to_date": self.up_to_date, "switches": [s.to_dict() for s in self.switches],
               "vms": [v.to_dict() for v in self.vms],
               "post": self.post.to_dict() if self.post is not None else None,
               "pruned": [p.to_dict() for p in self.pruned], "notes": self.notes, "summary": self.summary()}
        if self.rules:   # only files with anti_affinity groups have rules
            doc["rules"] = [r.to_dict() for r in self.rules]
        doc["not_in_file"] = [p.to_dict() for p in self.strays]
        doc["matches"] = not self.interrupted and self.verdict().ok
        doc["verdict"] = self.verdict().reasons()
        if self.plan is not None:
            doc["plan"] = self.plan.to_dict()
        if self.cloning is not None:   # a run that created VMs
            doc["cloning"] = self.cloning
        return doc


@dataclass
class DestroyResult:
    """`cluster --destroy`: the VMs (a Report) and then the switches."""

    report: Report
    switches: list[SwitchOutcome] = field(default_factory=list)
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)   # what was left alone, and why
    rules: list = field(default_factory=list)    # cluster/rules.RuleOutcome: DRS rules removed
    plan: Any = None                             # cluster/summary.PlanCounts: what the run set out to do

    @property
    def ok(self) -> bool:
        return self.report.ok and not any(s.failed for s in self.switches) and not self.interrupted and \
            not any(r.failed for r in self.rules)

    def to_dict(self) -> dict:
        doc = self.report.to_dict()
        doc["switches"] = [{"name": s.name, "kind": s.kind, "status": s.status, "detail": s.detail}
                           for s in self.switches]
        doc["notes"] = list(self.notes)
        if self.rules:
            doc["rules"] = [r.to_dict() for r in self.rules]
        if self.plan is not None:
            doc["plan"] = self.plan.to_dict()
        return doc


@dataclass
class Stray:
    """A VM with the file's naming pattern that the file no longer has."""

    name: str
    host: str | None
    power_state: str | None
    status: str = "not in the file"     # or "destroyed" / "failed" after --prune
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def to_dict(self) -> dict:
        return {"name": self.name, "host": self.host, "power_state": self.power_state, "status": self.status,
                "detail": self.detail}


@dataclass
class ClusterStatus:
    """`cluster --status`: every VM and switch of the file as vCenter has it, and the strays."""

    switches: list[SwitchOutcome]
    vms: list[VMOutcome]
    strays: list[Stray]
    spec: Any = None
    rules: list = field(default_factory=list)    # cluster/rules.RuleOutcome: the file's DRS rules
    allow_drift: bool = False                    # --allow-drift: VMs that differ in what --create leaves
    checks: Any = None                           # the checks' PostReport, or None (none, or --no-checks)
    notes: list[str] = field(default_factory=list)   # exports written, shown after the tables (text only)
    export_errors: list = field(default_factory=list)   # exports that could not be written (exit 1)

    def verdict(self):
        from vhpc_toolkit.cluster.state.verdict import judge

        return judge(self.vms, self.switches, self.rules, self.strays, allow_drift=self.allow_drift)

    @property
    def differs(self) -> list[str]:
        return [v.name for v in self.vms if v.status != UP_TO_DATE] + \
            [s.name for s in self.switches if s.status != UP_TO_DATE] + [s.name for s in self.strays] + \
            [r.name for r in self.rules if r.status != UP_TO_DATE]

    @property
    def ok(self) -> bool:
        return self.verdict().ok and not self.export_errors

    def summary(self) -> str:
        text = tally(self.vms, self.switches)
        if self.strays:
            text += f"; {count(len(self.strays), 'VM')} not in the file"
        rules = [r for r in self.rules if r.status != UP_TO_DATE]
        if rules:
            text += f"; {count(len(rules), 'DRS rule')} {plural(len(rules), 'differs')}"
        return text + ("; matches the file" if self.verdict().ok else "; differs from the file")

    def to_dict(self) -> dict:
        return {"matches": self.verdict().ok, "switches": [s.to_dict() for s in self.switches],
                "vms": [v.to_dict() for v in self.vms], "not_in_file": [s.to_dict() for s in self.strays],
                "rules": [r.to_dict() for r in self.rules], "summary": self.summary(),
                "verdict": self.verdict().reasons()}
