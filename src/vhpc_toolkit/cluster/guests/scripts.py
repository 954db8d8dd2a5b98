"""Guest setup that converges: each VM's script steps against the record it carries.

A VM of the cluster file has steps (its ``script:`` lines with their arguments, user and
barrier); the VM's record (ops/post/steps.py, in its extraConfig, read with the engine's one
inventory read) says which it finished. ``step_states`` says, per VM, which steps are done,
failed (exit code, last lines) or pending; ``run_unfinished`` runs the steps that are not done
on the VMs it is given, in barrier order across all of them (``rerun``: every step), and writes
each VM's record after each barrier: one ReconfigVM_Task per VM whose record changed. It is the
entry point for running a cluster's guest setup on any subset of the file's VMs (a run of
``cluster --create``, nodes Slurm resumes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from vhpc_toolkit.clusterfile import ClusterSpec, ScriptStep, VMSpec
from vhpc_toolkit.ops.post import PostReport, read_scripts, run_barriers
from vhpc_toolkit.ops.post.engine import DEFAULT_USER
from vhpc_toolkit.ops.post.record import write_records
from vhpc_toolkit.ops.post.steps import DONE, FAILED as STEP_FAILED, PENDING, Failure, StepRecord, step_digest
from vhpc_toolkit.phases import Phases, as_phases
from vhpc_toolkit.results import FAILED, OK


@dataclass
class StepState:
    """One script step of one VM, as the VM's record has it."""

    step: ScriptStep
    digest: str
    state: str = PENDING              # done | failed | pending
    exit_code: int | None = None
    tail: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.state == DONE

    def describe(self) -> str:
        if self.state == STEP_FAILED:
            return "failed" + (f" (exit {self.exit_code})" if self.exit_code is not None else "")
        return self.state

    def to_dict(self) -> dict[str, Any]:
        return {"script": self.step.source or self.step.path, "args": list(self.step.args),
                "barrier": self.step.barrier, "state": self.state, "exit_code": self.exit_code,
                "output_tail": list(self.tail)}


def user_of(vm: VMSpec) -> str:
    return vm.guest_username or DEFAULT_USER


def step_contents(spec: ClusterSpec, vms: Sequence[VMSpec] | None = None) -> dict[str, bytes]:
    """Every script's bytes by path (the steps of ``vms``, default all): one error naming every unreadable one."""
    return read_scripts(step.path for vm in (spec.vms if vms is None else vms) for step in vm.scripts)


def steps_of(vm: VMSpec, contents: Mapping[str, bytes]) -> list[tuple[ScriptStep, str]]:
    """The VM's steps with their digests, in run order."""
    return [(step, step_digest(contents[step.path], step.args, user_of(vm), step.barrier))
            for _, steps in vm.script_groups() for step in steps]


def step_states(vm: VMSpec, record: StepRecord, contents: Mapping[str, bytes]) -> list[StepState]:
    out = []
    for step, digest in steps_of(vm, contents):
        state = StepState(step, digest, record.state(digest))
        if state.state == STEP_FAILED:
            failure = record.failed[digest]
            state.exit_code, state.tail = failure.exit_code, list(failure.tail)
        out.append(state)
    return out


def unfinished(states: Sequence[StepState]) -> list[StepState]:
    return [s for s in states if not s.done]


def summary(states: Sequence[StepState]) -> str:
    """``2 of 3 done; setup.sh failed (exit 3)`` (empty for a VM without steps)."""
    if not states:
        return ""
    done = sum(s.done for s in states)
    text = f"scripts: {done} of {len(states)} done"
    failed = [s for s in states if s.state == STEP_FAILED]
    if failed:
        text += "; " + ", ".join(f"{s.step.shown} {s.describe()}" for s in failed)
    return text


@dataclass
class ScriptOutcome:
    """What ``run_unfinished`` did: the runs (None when nothing was pending), the records after."""

    report: PostReport | None
    records: dict[str, StepRecord]
    notes: list[str] = field(default_factory=list)
    unrecorded: dict[str, str] = field(default_factory=dict)   # VM -> why its record was not written


def _phases(spec: ClusterSpec, states: Mapping[str, list[StepState]], rerun: bool):
    """The script phases of the file, kept to the steps to run (every step with ``rerun``)."""
    todo = {(name, id(s.step)) for name, vm_states in states.items() for s in vm_states if rerun or not s.done}
    out = []
    for barrier, pairs in spec.script_phases():
        kept = [(vm, step) for vm, step in pairs if (vm.name, id(step)) in todo]
        if kept:
            out.append((barrier, kept))
    return out


def _record_phase(session, phase, records: dict[str, StepRecord], refs: Mapping[str, Any],
                  keep: Mapping[str, set[str]], digests: Mapping[tuple[str, int], str],
                  outcome: ScriptOutcome) -> None:
    """After a barrier: each VM's finished and failed steps into its record, one write per VM."""
    finished: dict[str, list[str]] = {}
    failures: dict[str, dict[str, Failure]] = {}
    for run in phase.runs:
        digest = digests.get((run.vm, id(run.step)))
        if digest is None:
            continue
        if run.status == OK:
            finished.setdefault(run.vm, []).append(digest)
        elif run.status == FAILED and run.exit_code is not None:
            failures.setdefault(run.vm, {})[digest] = Failure(run.exit_code, run.output_tail)
    writes = {}
    for name in set(finished) | set(failures):
        new = records[name].updated(finished.get(name, ()), failures.get(name), keep.get(name, ()))
        if new.to_value() != records[name].to_value() or records[name].unreadable:
            writes[name] = (refs[name], new.to_value())
        records[name] = new
    for name, why in write_records(session, writes).items():
        outcome.unrecorded[name] = why
        outcome.notes.append(f"VM {name}: its finished script steps were not recorded ({why}); "
                             "they run again next time")


def run_unfinished(session, spec: ClusterSpec, names: Sequence[str], records: Mapping[str, StepRecord],
                   refs: Mapping[str, Any], password_for: Callable[[Any], str], *, rerun: bool = False,
                   contents: Mapping[str, bytes] | None = None, progress: Phases | Callable | None = None,
                   concurrency: int = 8, vm_objs: Mapping[str, Any] | None = None,
                   env_for: Callable[[Any], Sequence[str]] | None = None) -> ScriptOutcome:
    """Run the steps ``names`` (VMs of ``spec``) have not finished, barrier by barrier across them all.

    ``records``: each VM's record as read (an empty StepRecord for a VM made this run); ``refs``:
    each VM's reference, for the record writes. Nothing pending: no guest operation, report None.
    Raises InputError / ValidationFailed (unreadable scripts, no password) before anything runs.
    """
    by_name = {vm.name: vm for vm in spec.vms}
    vms = [by_name[n] for n in names if by_name[n].scripts]
    contents = dict(contents) if contents is not None else step_contents(spec, vms)
    records = {vm.name: records.get(vm.name) or StepRecord() for vm in vms}
    states = {vm.name: step_states(vm, records[vm.name], contents) for vm in vms}
    outcome = ScriptOutcome(None, records)
    phases = _phases(spec, states, rerun)
    if not phases:
        return outcome
    digests = {(name, id(s.step)): s.digest for name, vm_states in states.items() for s in vm_states}
    keep = {name: {s.digest for s in vm_states} for name, vm_states in states.items()}
    shown = as_phases(progress)
    running: list[tuple[Any, Any]] = []     # (context manager, Phase) of the barrier running now

    def on_phase(phase, started: bool) -> None:
        if started:
            label = "scripts" + ("" if phase.barrier is None else f", barrier {phase.barrier}")
            cm = shown.phase(label, len(phase.runs))
            running.append((cm, cm.__enter__()))
            return
        try:
            _record_phase(session, phase, records, refs, keep, digests, outcome)
        finally:
            running.pop()[0].__exit__(None, None, None)

    def on_event(run) -> None:
        if running:
            running[-1][1].done(run)

    outcome.report = run_barriers(session, phases, password_for, contents=contents, concurrency=concurrency,
                                  vm_objs=vm_objs, on_phase=on_phase, on_event=on_event, env_for=env_for)
    return outcome
