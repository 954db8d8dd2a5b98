"""What post scripts did: one ScriptRun per script and VM, phases for barrier runs, the report."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.results import FAILED, NOT_RUN, OK, PENDING, SKIPPED, STARTED
from vhpc_toolkit.words import count


@dataclass
class ScriptRun:
    """One script on one VM."""

    vm: str
    script: str                       # the local path, as given (cluster file: as written there)
    barrier: int | None = None
    path: str = ""                    # the local file read ("" = ``script``)
    status: str = PENDING             # pending | started (not waited for) | ok | failed | skipped | not run
    exit_code: int | None = None
    duration: float | None = None     # seconds, from the guest's start and end times
    output_tail: list[str] = field(default_factory=list)
    pid: int | None = None
    guest_script: str = ""
    guest_log: str = ""
    error: str = ""                   # why it did not run or could not be followed
    args: tuple[str, ...] = ()        # the script's arguments
    step: Any = field(default=None, repr=False, compare=False)   # the cluster file's ScriptStep, if any

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def name(self) -> str:      # what a progress display calls this run
        return f"{self.vm}: {self.script}"

    @property
    def detail(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One line: what happened."""
        if self.status == FAILED and self.error:
            return self.error
        if self.status in (OK, FAILED) and self.exit_code is not None:
            return f"exit code {self.exit_code}"
        if self.status == STARTED:
            return f"started as pid {self.pid}; output in {self.guest_log}"
        return self.error or self.status

    def to_dict(self) -> dict[str, Any]:
        doc = {"vm": self.vm, "script": self.script, "path": self.path or self.script,
               "barrier": self.barrier, "status": self.status,
               "exit_code": self.exit_code,
               "duration": None if self.duration is None else round(self.duration, 3),
               "output_tail": list(self.output_tail), "pid": self.pid, "guest_script": self.guest_script,
               "guest_log": self.guest_log, "error": self.error}
        if self.args:
            doc["args"] = list(self.args)
        return doc


@dataclass
class PhaseResult:
    """One barrier group of a cluster run (barrier None: the unlabelled scripts)."""

    barrier: int | None
    status: str = NOT_RUN             # ok | failed | not run
    runs: list[ScriptRun] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "no barrier" if self.barrier is None else f"barrier {self.barrier}"

    def to_dict(self) -> dict[str, Any]:
        return {"barrier": self.barrier, "status": self.status, "runs": [r.to_dict() for r in self.runs]}


@dataclass
class PostReport:
    """Every script run; ``phases`` is set for barrier runs."""

    runs: list[ScriptRun]
    phases: list[PhaseResult] = field(default_factory=list)
    operation: str = "post"
    notes: list[str] = field(default_factory=list)    # e.g. step records that could not be written

    @property
    def failed(self) -> list[ScriptRun]:
        return [r for r in self.runs if r.failed]

    @property
    def ok(self) -> bool:
        return not self.failed and all(p.status != NOT_RUN for p in self.phases)

    @property
    def not_run_phases(self) -> list[PhaseResult]:
        return [p for p in self.phases if p.status == NOT_RUN]

    def failure(self) -> str | None:
        """The first failure, one line: VM, script, exit code or error, last output line."""
        for r in self.failed:
            what = f"VM {r.vm}: script {r.script} failed: {r.describe()}"
            if r.output_tail:
                what += f"; last output: {r.output_tail[-1]}"
            return what
        return None

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.runs) for s in (OK, STARTED, FAILED, SKIPPED, NOT_RUN)}
        vms = len({r.vm for r in self.runs})
        parts = [f"{self.operation}: {count(len(self.runs), 'script run')} on {count(vms, 'VM')}: {counts[OK]} ok"]
        if counts[STARTED]:
            parts.append(f"{counts[STARTED]} started")
        parts.append(f"{counts[FAILED]} failed")
        if counts[SKIPPED]:
            parts.append(f"{counts[SKIPPED]} skipped")
        if counts[NOT_RUN]:
            parts.append(f"{counts[NOT_RUN]} not run")
        text = ", ".join(parts)
        if self.not_run_phases:
            text += "; phases not run: " + ", ".join(p.label for p in self.not_run_phases)
        return text

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"operation": self.operation, "results": [r.to_dict() for r in self.runs],
                               "summary": self.summary(), "failure": self.failure()}
        if self.phases:
            doc["phases"] = [p.to_dict() for p in self.phases]
            doc["phases_not_run"] = [p.barrier for p in self.not_run_phases]
        if self.notes:
            doc["notes"] = list(self.notes)
        return doc
