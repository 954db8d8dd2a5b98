"""One rule for the exit status of `cluster --create` and `cluster --status`.

The cluster matches its file (exit 0) when, after the run (or as vCenter has it, for
--status), every VM, switch and DRS rule of the file is as the file says, no VM of its naming
pattern is left that the file no longer has, every VM finished every script step, and every
check passes. Anything else is exit 1, with the reasons said once: the same state gets the
same verdict from both commands. ``--allow-drift`` (either command) accepts VMs that differ in
what --create does not change (drift); nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from vhpc_toolkit.results import ABSENT, DRIFT, FAILED_STATUSES, INCOMPLETE
from vhpc_toolkit.words import count, plural


def _names(items: Iterable) -> str:
    names = [getattr(i, "name", str(i)) for i in items]
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


@dataclass
class Verdict:
    """What keeps a cluster from matching its file, by kind (each a list of names)."""

    failed: list = field(default_factory=list)       # VMs, switches, rules, prunes that failed in this run
    pending: list = field(default_factory=list)      # what --create would make or change (VMs, switches, rules)
    drifted: list = field(default_factory=list)      # VMs that differ in what --create does not change
    strays: list = field(default_factory=list)       # VMs of the file's naming pattern it no longer has
    unfinished: list = field(default_factory=list)   # VMs with script steps not done
    unhealthy: list = field(default_factory=list)    # VMs with a check that failed or could not run
    allow_drift: bool = False

    def reasons(self) -> list[str]:
        out = []
        if self.failed:
            out.append(f"{len(self.failed)} failed ({_names(self.failed)})")
        if self.pending:
            out.append(f"{len(self.pending)} to create or change ({_names(self.pending)}; cluster --create does it)")
        if self.drifted and not self.allow_drift:
            n = len(self.drifted)
            out.append(f"{count(n, 'VM')} {plural(n, 'differs')} from the file ({_names(self.drifted)}; "
                       "--allow-drift accepts it)")
        if self.strays:
            out.append(f"{count(len(self.strays), 'VM')} not in the file ({_names(self.strays)}; "
                       "cluster --create --prune destroys those it made)")
        if self.unfinished:
            out.append(f"scripts not finished on {count(len(self.unfinished), 'VM')} ({_names(self.unfinished)}; "
                       "cluster --create runs them)")
        if self.unhealthy:
            out.append(f"checks failing on {count(len(self.unhealthy), 'VM')} ({_names(self.unhealthy)})")
        return out

    @property
    def ok(self) -> bool:
        return not self.reasons()

    def line(self) -> str:
        """The last line of a run: the verdict and why."""
        reasons = self.reasons()
        return "matches the file (exit status 0)" if not reasons else \
            "does not match the file (exit status 1): " + "; ".join(reasons)


def judge(vms: Iterable, switches: Iterable = (), rules: Iterable = (), strays: Iterable = (),
          pruned: Iterable = (), allow_drift: bool = False) -> Verdict:
    """The verdict over a run's or a status's outcomes (VMOutcome, SwitchOutcome, RuleOutcome, Stray)."""
    v = Verdict(allow_drift=allow_drift)
    for vm in vms:
        if vm.status in FAILED_STATUSES:
            v.failed.append(vm)
            continue
        if vm.status == ABSENT or vm.pending:
            v.pending.append(vm)
        elif vm.status == DRIFT or vm.drift:
            v.drifted.append(vm)
        if any(not s.done for s in vm.steps or []):
            v.unfinished.append(vm)
        if any(c["status"] != "ok" for c in vm.checks or []):
            v.unhealthy.append(vm)
    for item in list(switches) + list(rules):
        if item.status in FAILED_STATUSES:
            v.failed.append(item)
        elif item.status in (ABSENT, INCOMPLETE):
            v.pending.append(item)
        elif item.status == DRIFT:
            v.drifted.append(item)
    v.failed += [p for p in pruned if p.status in FAILED_STATUSES]
    v.strays += list(strays)
    return v
