"""What a per-VM operation reports: changed, already so, or failed, per VM."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.specs import Change

CHANGED, UNCHANGED, FAILED = "changed", "unchanged", "failed"


@dataclass
class VMResult:
    vm: str
    status: str = UNCHANGED
    detail: str = ""
    changes: list[Change] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)   # command-specific extras (query tables)

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def to_dict(self) -> dict[str, Any]:
        doc = {"vm": self.vm, "status": self.status, "detail": self.detail,
               "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes]}
        doc.update(self.data)
        return doc


@dataclass
class OperationReport:
    operation: str
    results: list[VMResult]
    unit: str = "VM"          # what a row is: a VM, or a host / switch for switch operations
    done: str = "changed"     # the word for a changed row ("destroyed" for destroy)

    @property
    def failed(self) -> list[VMResult]:
        return [r for r in self.results if r.failed]

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in (CHANGED, UNCHANGED, FAILED)}
        return (f"{self.operation}: {len(self.results)} {self.unit}(s): {counts[CHANGED]} {self.done}, "
                f"{counts[UNCHANGED]} already as asked, {counts[FAILED]} failed")

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "results": [r.to_dict() for r in self.results],
                "summary": self.summary()}
