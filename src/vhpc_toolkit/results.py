"""The one result model every command returns, and the exit code derived from it.

A command returns a result object; ``output.emit`` renders it as text or JSON and
``exit_code`` turns it into the process status. Every result has ``to_dict()``,
``ok`` (nothing failed) and may have ``interrupted`` (Ctrl-C stopped it).
Statuses come from this module only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.errors import ExitCode
from vhpc_toolkit.specs import Change
from vhpc_toolkit.words import count

# Per-target operations (one VM, host or switch each).
CHANGED, UNCHANGED, FAILED = "changed", "unchanged", "failed"
NOT_STARTED = "not started"   # its task was still queued when the run stopped
# A cluster's VMs and switches.
CREATED, RECONFIGURED, POWERED_ON = "created", "reconfigured", "powered on"
UP_TO_DATE, DRIFT, ROLLED_BACK = "up to date", "drift", "rolled back"
DESTROYED, ABSENT = "destroyed", "absent"
INCOMPLETE = "incomplete"   # a switch or DRS rule that exists but lacks some of the file's hosts or VMs
# Scripts in guests.
PENDING, STARTED, OK, SKIPPED, NOT_RUN = "pending", "started", "ok", "skipped", "not run"

FAILED_STATUSES = frozenset({FAILED, ROLLED_BACK, NOT_STARTED})

VM, HOST, SWITCH = "vm", "host", "switch"   # what a TargetResult is about
UNIT_WORDS = {VM: "VM", HOST: "host", SWITCH: "switch"}


@dataclass
class TargetResult:
    """What an operation did to one VM, host or switch."""

    name: str
    status: str = UNCHANGED
    detail: str = ""
    changes: list[Change] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)   # command-specific extras (query rows, warnings)
    kind: str = VM

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def to_dict(self) -> dict[str, Any]:
        doc = {self.kind: self.name, "status": self.status, "detail": self.detail,
               "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes]}
        doc.update(self.data)
        return doc


@dataclass
class Report:
    """The results of one operation over many targets."""

    operation: str
    results: list[TargetResult]
    done: str = "changed"      # the word for a changed row ("destroyed" for destroy)
    unchanged: str = "already as asked"   # ... and for an unchanged one ("already absent" for destroy)
    interrupted: bool = False
    nothing: str | None = None   # the summary when there was no target at all ("nothing to adopt: ...")

    @property
    def unit(self) -> str:
        return self.results[0].kind if self.results else VM

    @property
    def failed(self) -> list[TargetResult]:
        return [r for r in self.results if r.failed]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted

    def warnings(self) -> list[str]:
        return [w for r in self.results for w in r.data.get("warnings") or []]

    def summary(self) -> str:
        if not self.results and self.nothing:
            return f"{self.operation}: {self.nothing}"
        counts = {s: sum(r.status == s for r in self.results) for s in (CHANGED, UNCHANGED)}
        unit = UNIT_WORDS.get(self.unit, self.unit)
        waiting = sum(r.status == NOT_STARTED for r in self.results)
        return (f"{self.operation}: {count(len(self.results), unit)}: {counts[CHANGED]} {self.done}, "
                f"{counts[UNCHANGED]} {self.unchanged}, {len(self.failed) - waiting} failed"
                + (f", {waiting} not started" if waiting else ""))

    def details(self) -> str:
        """One line of what it did: a switch operation's own details, else the summary."""
        if self.unit == SWITCH:
            return "; ".join(r.detail for r in self.results if r.detail) or self.summary()
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "results": [r.to_dict() for r in self.results],
                "summary": self.summary()}


@dataclass
class QueryReport(Report):
    """A read-only report whose rows are tables (``data[rows_key]``, shown with ``columns``)."""

    rows_key: str = "rows"
    columns: list[tuple[str, str]] = field(default_factory=list)   # (title, row key)

    def summary(self) -> str:
        return f"{self.operation}: {count(len(self.results), UNIT_WORDS.get(self.unit, self.unit))}"


@dataclass
class SwitchOutcome:
    """A switch of a cluster file: what the run found or did."""

    name: str
    kind: str                          # svs | dvs
    hosts: list[str]
    port_group: str | None
    status: str = UP_TO_DATE
    detail: str = ""
    created_hosts: list[str] = field(default_factory=list)   # svs: hosts this run put it on (rollback)
    new: bool = False                                        # the run created the switch itself
    pvrdma_hosts: list[str] = field(default_factory=list)    # dvs: member hosts prepared for PVRDMA

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def to_dict(self) -> dict[str, Any]:
        doc = {"name": self.name, "kind": self.kind, "hosts": list(self.hosts), "port_group": self.port_group,
               "status": self.status, "detail": self.detail}
        if self.pvrdma_hosts:
            doc["pvrdma_hosts"] = list(self.pvrdma_hosts)
        return doc


@dataclass
class Document:
    """A read-only document (the inventory view, a cluster file's plan): ``kind`` names its renderer."""

    kind: str
    doc: Any
    source: Any = None      # what the text renderer needs beyond the document (e.g. the ClusterSpec)
    ok: bool = True

    def to_dict(self) -> Any:
        return self.doc


def exit_code(result: Any) -> ExitCode:
    """The process status for a command's result: 130 interrupted, 1 anything failed, else 0."""
    if result is None:
        return ExitCode.OK
    if getattr(result, "interrupted", False):
        return ExitCode.INTERRUPTED
    return ExitCode.OK if result.ok else ExitCode.FAILED
