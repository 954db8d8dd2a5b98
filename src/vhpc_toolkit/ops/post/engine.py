"""Post scripts in the guest: upload, run, wait, collect exit code and output; barriers.

Per VM, each script is uploaded to ``/tmp/vhpc-<name>-<random>.sh`` and run
as ``/bin/sh SCRIPT > LOG 2>&1`` through VMware Tools; with ``wait`` the
run is polled until it ends and the log's last lines are fetched. Scripts
of one VM run in the order given (a failure skips that VM's later scripts);
different VMs run concurrently, at most ``concurrency`` at a time.

``run_barriers`` runs a cluster's script phases (unlabelled first, then
barriers ascending): every script of a phase on every VM ends before the
next phase starts, and a failure stops the later phases.

Powered-off VMs are powered on first (unless ``power_on=False``) and every
VM's VMware Tools is waited for. Nothing here prints; results are plain
dataclasses with ``to_dict()``.
"""
from __future__ import annotations

import logging
import re
import secrets
import shlex
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from vhpc_toolkit.errors import InputError, ValidationFailed, refuse_problems
from vhpc_toolkit.files import read_bytes
from vhpc_toolkit.ops.post.results import PhaseResult, PostReport, ScriptRun
from vhpc_toolkit.results import FAILED, NOT_RUN, OK, SKIPPED, STARTED
from vhpc_toolkit.vsphere.faults import fault_message
from vhpc_toolkit.vsphere.guest.info import wait_for_tools
from vhpc_toolkit.vsphere.guest.operations import Guest, GuestOpsError, wait_for_processes
from vhpc_toolkit.vsphere.inventory import Obj, read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_tasks

log = logging.getLogger(__name__)

DEFAULT_USER = "root"
DEFAULT_TIMEOUT = 3600.0       # seconds for a whole run (all phases)
DEFAULT_TOOLS_TIMEOUT = 300.0  # seconds for VMware Tools to come up after power-on
DEFAULT_TAIL = 20              # lines of output kept per script

VM_PROPS = ["runtime.powerState", "guest.toolsRunningStatus"]


def read_scripts(paths: Iterable[str]) -> dict[str, bytes]:
    """Every script's bytes by path; one InputError naming every unreadable one."""
    data, problems = {}, []
    for path in paths:
        if path in data:
            continue
        try:
            data[path] = read_bytes(path, "script")
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        if len(problems) == 1:
            raise InputError(problems[0])
        raise ValidationFailed(problems)
    return data


def guest_paths(script: str, token: str | None = None) -> tuple[str, str]:
    """(guest script path, guest log path) for a local script: /tmp/vhpc-<name>-<random>.sh/.log."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(script).stem).strip("._-") or "script"
    token = token or secrets.token_hex(4)
    base = f"/tmp/vhpc-{stem[:40]}-{token}"
    return base + ".sh", base + ".log"


def tail(data: bytes, lines: int) -> list[str]:
    """The last ``lines`` lines of output (decoded leniently, no trailing empty line)."""
    if lines <= 0:
        return []
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return text.rstrip("\n").split("\n")[-lines:] if text.strip() else []


@dataclass
class _VM:
    obj: Obj
    username: str
    password: str = field(repr=False)
    error: str = ""        # set when the VM cannot run guest operations
    env: list[str] = field(default_factory=list)   # NAME=value for its scripts (run_barriers' env_for)


def _read_vms(session, refs: Sequence[Any]) -> dict[int, Obj]:
    """Resolve VM names or Objs (one inventory read); index in ``refs`` -> Obj."""
    inv = read_inventory(session, {"VirtualMachine": VM_PROPS})
    found, problems = {}, []
    for i, ref in enumerate(refs):
        if isinstance(ref, Obj):
            obj = inv.objects.get(ref.moid)
            if obj is None:
                problems.append(f"VM {ref.name} no longer exists")
                continue
        else:
            try:
                obj = inv.find("VirtualMachine", str(ref), what="VM")
            except Exception as exc:  # NotFound / Ambiguous: collected into one error
                problems.append(str(exc))
                continue
        found[i] = obj
    refuse_problems(problems)
    return found


def _ready_vms(session, vms: list[_VM], power_on: bool, tools_timeout: float) -> None:
    """Power on what is off (if allowed) and wait for Tools; failures go to ``vm.error``."""
    tasks = {}
    for vm in vms:
        state = vm.obj.get("runtime.powerState")
        if state == "poweredOn":
            continue
        if not power_on:
            vm.error = f"VM {vm.obj.name} is not powered on ({state}); power it on first"
            continue
        try:
            tasks[vm.obj.moid] = vm.obj.ref.PowerOnVM_Task()
        except Exception as exc:  # a fault raised by the call itself
            vm.error = f"power on of VM {vm.obj.name} failed: {fault_message(exc)}"
    if tasks:
        outcomes = wait_for_tasks(session, tasks.values(), timeout=tools_timeout + 60)
        for vm in vms:
            task = tasks.get(vm.obj.moid)
            if task is not None and not outcomes[task._moId].ok:
                vm.error = f"power on of VM {vm.obj.name} failed: {outcomes[task._moId].error}"
    waiting = [vm for vm in vms if not vm.error and
               (vm.obj.moid in tasks or vm.obj.get("guest.toolsRunningStatus") != "guestToolsRunning")]
    if waiting:
        status = wait_for_tools(session, [vm.obj.ref for vm in waiting], tools_timeout)
        for vm in waiting:
            if status.get(vm.obj.moid) != "guestToolsRunning":
                vm.error = (f"VMware Tools is not running in VM {vm.obj.name} "
                            f"(waited {tools_timeout:.0f}s): guest operations are unavailable")


def command_line(run: ScriptRun) -> str:
    """What ``/bin/sh`` runs in the guest: the uploaded script, its arguments (quoted), the log."""
    words = " ".join(shlex.quote(a) for a in run.args)
    return f"{run.guest_script}{' ' + words if words else ''} > {run.guest_log} 2>&1"


def _wait(guest: Guest, vm: _VM, run: ScriptRun, deadline: float, cancel: threading.Event | None):
    """The run's process once it ended; a run past the deadline is terminated (GuestOpsError)."""
    try:
        return wait_for_processes([(guest, run.pid)], timeout=max(0.0, deadline - time.monotonic()),
                                  cancel=cancel)[(vm.obj.name, run.pid)]
    except GuestOpsError as exc:
        if cancel is not None and cancel.is_set():
            raise GuestOpsError(f"VM {vm.obj.name}: interrupted; script {run.script} may still "
                                f"be running as pid {run.pid}") from None
        if "timed out" not in str(exc):
            raise
        try:
            guest.terminate(run.pid)
        except GuestOpsError:
            pass
        raise GuestOpsError(f"VM {vm.obj.name}: script {run.script} did not end within the "
                            "timeout and was terminated") from None


def _run_vm(session, vm: _VM, runs: list[ScriptRun], scripts: Mapping[str, bytes], wait: bool,
            deadline: float, tail_lines: int, on_event: Callable[[ScriptRun], None] | None,
            cancel: threading.Event | None = None, stop_on_failure: bool = True) -> None:
    """The VM's scripts in order; a failure skips the rest of this VM's list (unless
    ``stop_on_failure`` is False: checks, which are independent of each other)."""
    def emit(run: ScriptRun) -> None:
        if on_event:
            on_event(run)

    if vm.error:
        for run in runs:
            run.status, run.error = FAILED, vm.error
            emit(run)
        return
    guest = Guest(session, vm.obj.ref, vm.obj.name, vm.username, vm.password)
    for i, run in enumerate(runs):
        if cancel is not None and cancel.is_set():
            run.status, run.error = FAILED, "interrupted before it started"
            emit(run)
            continue
        if not run.guest_script:   # checks come with fixed paths, overwritten at each run
            run.guest_script, run.guest_log = guest_paths(run.script)
        try:
            guest.upload(scripts[run.path or run.script], run.guest_script, overwrite=True, mode=0o755)
            run.pid = guest.start("/bin/sh", command_line(run), cwd="/tmp", env=vm.env)
            if not wait:
                run.status = STARTED
                emit(run)
                continue
            proc = _wait(guest, vm, run, deadline, cancel)
            run.exit_code, run.duration = proc.exit_code, proc.duration
            try:
                run.output_tail = tail(guest.download(run.guest_log), tail_lines)
            except GuestOpsError as exc:
                run.error = f"output not fetched: {exc}"
            if proc.lost:
                run.status, run.error = FAILED, f"VM {vm.obj.name}: the guest lost track of pid {run.pid}"
            else:
                run.status = OK if proc.exit_code == 0 else FAILED
        except GuestOpsError as exc:
            run.status, run.error = FAILED, str(exc)
        emit(run)
        if run.status == FAILED and stop_on_failure:
            for later in runs[i + 1:]:
                later.status, later.error = SKIPPED, f"skipped: {run.script} failed on this VM"
                emit(later)
            return


def _run_phase(session, work: list[tuple[_VM, list[ScriptRun]]], scripts: Mapping[str, bytes], wait: bool,
               concurrency: int, deadline: float, tail_lines: int, on_event, stop_on_failure: bool = True) -> None:
    if not work:
        return
    cancel = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(work))))
    try:
        futures = [pool.submit(_run_vm, session, vm, runs, scripts, wait, deadline, tail_lines, on_event,
                               cancel, stop_on_failure) for vm, runs in work]
        for f in futures:
            f.result()
    except KeyboardInterrupt:
        # Ctrl-C: the workers stop at their next poll; scripts already started keep running in the guests.
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def run_scripts(session, targets: Sequence[tuple[Any, Sequence[str]]], username: str = DEFAULT_USER,
                password: str = "", *, wait: bool = True, concurrency: int = 8,
                timeout: float = DEFAULT_TIMEOUT, power_on: bool = True,
                tools_timeout: float = DEFAULT_TOOLS_TIMEOUT, tail_lines: int = DEFAULT_TAIL,
                on_event: Callable[[ScriptRun], None] | None = None, record: bool = False) -> PostReport:
    """Run each target's scripts in its guest: ``targets`` is [(VM name or Obj, [local script paths])].

    With ``record`` (and ``wait``), each VM's record of finished steps (steps.py) gets the scripts
    that ended, as a cluster file's unlabelled steps run as ``username``.
    Raises InputError for an unreadable script and ValidationFailed for unknown
    VMs, before anything changes; everything after that is reported per VM
    and script in the returned PostReport (never raised).
    """
    scripts = read_scripts(p for _, paths in targets for p in paths)
    objs = _read_vms(session, [ref for ref, _ in targets])
    vms: dict[str, _VM] = {}
    work: list[tuple[_VM, list[ScriptRun]]] = []
    runs: list[ScriptRun] = []
    for i, (_, paths) in enumerate(targets):
        obj = objs[i]
        if obj.moid in vms:  # the same VM twice: its scripts join its list
            vm = vms[obj.moid]
            vm_runs = next(r for v, r in work if v is vm)
        else:
            vm = vms[obj.moid] = _VM(obj, username, password)
            vm_runs = []
            work.append((vm, vm_runs))
        for path in paths:
            run = ScriptRun(obj.name, path)
            vm_runs.append(run)
            runs.append(run)
    deadline = time.monotonic() + timeout
    _ready_vms(session, list(vms.values()), power_on, tools_timeout)
    _run_phase(session, work, scripts, wait, concurrency, deadline, tail_lines, on_event)
    report = PostReport(runs)
    if record and wait:
        from vhpc_toolkit.ops.post.record import record_runs

        report.notes += record_runs(session, runs, {vm.obj.name: vm.obj for vm in vms.values()}, scripts, username)
    return report


def _barrier_vms(session, phases, password_for: Callable[[Any], str], vm_objs: Mapping[str, Obj] | None,
                 env_for: Callable[[Any], Sequence[str]] | None = None) -> dict[str, _VM]:
    """Each VM of the phases with its guest login and its scripts' environment (``vm_objs`` spares
    the read when it has them)."""
    specs: dict[str, Any] = {}
    for _, pairs in phases:
        for spec, _ in pairs:
            specs.setdefault(spec.name, spec)
    names = list(specs)
    if vm_objs is not None and all(n in vm_objs for n in names):
        objs = {n: vm_objs[n] for n in names}
        if any("runtime.powerState" not in o.props for o in objs.values()):
            found = _read_vms(session, list(objs.values()))
            objs = {n: found[i] for i, n in enumerate(names)}
    else:
        found = _read_vms(session, names)
        objs = {n: found[i] for i, n in enumerate(names)}
    return {n: _VM(objs[n], specs[n].guest_username or DEFAULT_USER, password_for(specs[n]),
                   env=list(env_for(specs[n])) if env_for else []) for n in names}


def run_barriers(session, phases: Sequence[tuple[int | None, Sequence[tuple[Any, Any]]]],
                 password_for: Callable[[Any], str], *, concurrency: int = 8,
                 timeout: float = DEFAULT_TIMEOUT, power_on: bool = True,
                 tools_timeout: float = DEFAULT_TOOLS_TIMEOUT, tail_lines: int = DEFAULT_TAIL,
                 vm_objs: Mapping[str, Obj] | None = None,
                 on_event: Callable[[ScriptRun], None] | None = None,
                 contents: Mapping[str, bytes] | None = None,
                 on_phase: Callable[[PhaseResult, bool], None] | None = None,
                 env_for: Callable[[Any], Sequence[str]] | None = None) -> PostReport:
    """Run a cluster's script phases in order (``ClusterSpec.script_phases()``).

    ``phases`` is [(barrier or None, [(VMSpec, ScriptStep)])] in run order.
    Every script of a phase, on every VM, ends before the next phase starts;
    after a phase with a failure the later phases are not run (their runs
    and the phases say "not run"). ``password_for(vmspec)`` gives a VM's guest
    password (see :func:`guest_password`); the user is ``vmspec.guest_username``
    or root. ``vm_objs`` (VM name -> Obj) skips the inventory read; ``contents``
    (path -> bytes) the reading of the scripts. ``on_phase(phase, started)`` is
    called as each phase that runs starts (True) and ends (False, also when
    Ctrl-C stops it: its finished runs are final). Each ScriptRun's ``step`` is
    the ScriptStep it runs. ``env_for(vmspec)`` gives the ``NAME=value``
    environment of a VM's scripts (e.g. its Slurm controller, slurm/guest_env.py).
    Raises InputError / ValidationFailed (unreadable scripts, unknown VMs,
    no password) before anything runs.
    """
    scripts = dict(contents) if contents is not None else \
        read_scripts(step.path for _, pairs in phases for _, step in pairs)
    vms = _barrier_vms(session, phases, password_for, vm_objs, env_for)

    report = PostReport([], operation="post scripts")
    for barrier, pairs in phases:
        phase = PhaseResult(barrier)
        for spec, step in pairs:
            run = ScriptRun(spec.name, step.source or step.path, barrier=barrier, path=step.path,
                            args=tuple(step.args), step=step)
            phase.runs.append(run)
            report.runs.append(run)
        report.phases.append(phase)

    deadline = time.monotonic() + timeout
    _ready_vms(session, list(vms.values()), power_on, tools_timeout)
    stopped = False
    for phase in report.phases:
        if stopped:
            for run in phase.runs:
                run.status, run.error = NOT_RUN, "not run: an earlier phase failed"
            continue
        work: dict[str, list[ScriptRun]] = {}
        for run in phase.runs:
            work.setdefault(run.vm, []).append(run)
        if on_phase:
            on_phase(phase, True)
        try:
            _run_phase(session, [(vms[n], rs) for n, rs in work.items()], scripts, True, concurrency,
                       deadline, tail_lines, on_event)
        finally:
            phase.status = FAILED if any(r.status in (FAILED, SKIPPED) for r in phase.runs) else OK
            if on_phase:
                on_phase(phase, False)
        stopped = phase.status == FAILED
    return report
