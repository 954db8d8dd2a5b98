"""Guest operations through VMware Tools: upload, download, start, wait, terminate.

Files move with InitiateFileTransferToGuest / FromGuest plus an HTTPS PUT /
GET on the returned URL, which names the ESXi host running the VM: see
vsphere/guest/transfers.py (the host's thumbprint pinned, its management address
when its name does not resolve). Programs start with StartProgramInGuest and
are waited for by polling ListProcessesInGuest: one call per VM per poll,
for all of that VM's programs, with a growing interval.

VMware Tools running does not mean its guest operations answer yet: while
vSphere says GuestOperationsUnavailable, a call is retried with a growing
delay for up to ``retry_for`` seconds (two minutes by default).

vSphere faults become typed errors with one-line messages. The guest
password is never logged or put in a message.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.vsphere.guest.transfers import TransferFailed, transfer

log = logging.getLogger(__name__)

RETRY_FOR = 120.0         # seconds of retries while guest operations are unavailable ...
RETRY_FIRST = 0.5         # ... the first delay, doubling ...
RETRY_MAX = 8.0           # ... up to this
POLL_INTERVAL = 0.2      # first poll interval (seconds) ...
POLL_MAX_INTERVAL = 5.0  # ... growing to this
POLL_GROWTH = 1.5


class GuestOpsError(VhpcError):
    """A guest operation failed (a VM's guest, not the whole run)."""


class GuestLoginFailed(GuestOpsError):
    """The guest credentials were refused (InvalidGuestLogin)."""


class ToolsNotRunning(GuestOpsError):
    """VMware Tools does not run in the guest (GuestOperationsUnavailable)."""


class VMNotPoweredOn(GuestOpsError):
    """The VM is powered off or suspended (InvalidPowerState)."""


class GuestFileNotFound(GuestOpsError):
    """A guest file or program does not exist."""


@dataclass
class GuestProcess:
    """A program started in a guest, as ListProcessesInGuest reports it."""

    pid: int
    name: str = ""
    cmd_line: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    lost: bool = False  # the guest no longer lists it: ended, exit code unknown

    @property
    def ended(self) -> bool:
        return self.end_time is not None or self.lost

    @property
    def duration(self) -> float | None:
        if self.start_time is None or self.end_time is None:
            return None
        return max(0.0, (self.end_time - self.start_time).total_seconds())

    @classmethod
    def from_info(cls, info) -> "GuestProcess":
        ended = info.endTime is not None
        code = info.exitCode if ended else None
        return cls(pid=int(info.pid), name=info.name or "", cmd_line=info.cmdLine or "",
                   start_time=info.startTime, end_time=info.endTime,
                   exit_code=(int(code) if code is not None else 0) if ended else None)


def _managers(session):
    """(fileManager, processManager) of the session's GuestOperationsManager, read once."""
    cached = getattr(session, "_vhpc_guest_managers", None)
    if cached is None:
        gom = session.content.guestOperationsManager
        if gom is None:
            raise GuestOpsError(f"{session.server} offers no guest operations")
        cached = (gom.fileManager, gom.processManager)
        session._vhpc_guest_managers = cached
    return cached


class Guest:
    """Guest operations on one VM with one set of guest credentials."""

    def __init__(self, session, vm_ref, vm_name: str, username: str, password: str,
                 retry_for: float = RETRY_FOR):
        from pyVmomi import vim

        self.session = session
        self.vm = vm_ref
        self.name = vm_name
        self.username = username
        self.retry_for = retry_for
        self._auth = vim.vm.guest.NamePasswordAuthentication(username=username, password=password,
                                                             interactiveSession=False)

    def __repr__(self) -> str:  # never the password
        return f"Guest({self.name!r}, user={self.username!r})"

    # -- faults -----------------------------------------------------------------------------

    def _call(self, what: str, fn, *args, **kwargs):
        """``fn(...)``, retried while guest operations are unavailable; faults as typed errors."""
        from pyVmomi import vim

        deadline = time.monotonic() + self.retry_for
        delay = RETRY_FIRST
        while True:
            try:
                return self._once(what, fn, *args, **kwargs)
            except vim.fault.GuestOperationsUnavailable:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    waited = f" (retried for {self.retry_for:.0f}s)" if self.retry_for > 0 else ""
                    raise ToolsNotRunning(f"VMware Tools is not running in VM {self.name}: "
                                          f"guest operations are unavailable{waited}") from None
                log.debug("VM %s: guest operations unavailable; retrying %s in %.1fs", self.name, what, delay)
                time.sleep(min(delay, remaining))
                delay = min(RETRY_MAX, delay * 2)

    def _once(self, what: str, fn, *args, **kwargs):
        from pyVmomi import vim, vmodl

        try:
            return fn(*args, **kwargs)
        except vim.fault.InvalidGuestLogin:
            raise GuestLoginFailed(f"guest login to VM {self.name} as {self.username} failed") from None
        except vim.fault.GuestOperationsUnavailable:
            raise
        except (vim.fault.InvalidPowerState, vim.fault.InvalidState) as exc:
            state = getattr(exc, "existingState", None)
            raise VMNotPoweredOn(f"VM {self.name} is not powered on"
                                 + (f" ({state})" if state else "")) from None
        except vim.fault.FileNotFound as exc:
            raise GuestFileNotFound(f"VM {self.name}: {what}: guest file {exc.file} not found") from None
        except vim.fault.GuestProcessNotFound as exc:
            raise GuestOpsError(f"VM {self.name}: {what}: no process {exc.pid} in the guest") from None
        except (vim.fault.VimFault, vmodl.MethodFault) as exc:
            from vhpc_toolkit.vsphere.faults import fault_message

            raise GuestOpsError(f"VM {self.name}: {what} failed: {fault_message(exc)}") from None

    def _http(self, what: str, url: str, data: bytes | None = None, method: str = "GET") -> bytes:
        try:
            return transfer(self.session, url, data=data, method=method)
        except TransferFailed as exc:
            raise GuestOpsError(f"VM {self.name}: {what}: {exc}") from None

    # -- operations -------------------------------------------------------------------------

    def upload(self, data: bytes, guest_path: str, overwrite: bool = True, mode: int = 0o644) -> None:
        """Write ``data`` to ``guest_path`` (InitiateFileTransferToGuest + PUT)."""
        from pyVmomi import vim

        fm, _ = _managers(self.session)
        attrs = vim.vm.guest.FileManager.PosixFileAttributes(permissions=mode)
        url = self._call(f"upload to {guest_path}", fm.InitiateFileTransferToGuest, vm=self.vm, auth=self._auth,
                         guestFilePath=guest_path, fileAttributes=attrs, fileSize=len(data), overwrite=overwrite)
        self._http(f"upload to {guest_path}", url, data=data, method="PUT")

    def download(self, guest_path: str) -> bytes:
        """The contents of ``guest_path`` (InitiateFileTransferFromGuest + GET)."""
        fm, _ = _managers(self.session)
        info = self._call(f"download of {guest_path}", fm.InitiateFileTransferFromGuest, vm=self.vm,
                          auth=self._auth, guestFilePath=guest_path)
        return self._http(f"download of {guest_path}", info.url)

    def start(self, program: str, arguments: str = "", cwd: str | None = None,
              env: Iterable[str] | None = None) -> int:
        """Start ``program arguments`` in the guest; returns its pid at once."""
        from pyVmomi import vim

        _, pm = _managers(self.session)
        spec = vim.vm.guest.ProcessManager.ProgramSpec(programPath=program, arguments=arguments,
                                                       workingDirectory=cwd, envVariables=list(env or []))
        return int(self._call(f"start of {program}", pm.StartProgramInGuest, vm=self.vm, auth=self._auth, spec=spec))

    def processes(self, pids: Iterable[int]) -> dict[int, GuestProcess]:
        """The listed programs (one ListProcessesInGuest call), by pid."""
        _, pm = _managers(self.session)
        infos = self._call("list of processes", pm.ListProcessesInGuest, vm=self.vm, auth=self._auth,
                           pids=list(pids))
        return {int(i.pid): GuestProcess.from_info(i) for i in infos or []}

    def terminate(self, pid: int) -> None:
        _, pm = _managers(self.session)
        self._call(f"terminate of process {pid}", pm.TerminateProcessInGuest, vm=self.vm, auth=self._auth, pid=pid)


def wait_for_processes(waits: Iterable[tuple[Guest, int]], timeout: float,
                       interval: float = POLL_INTERVAL, max_interval: float = POLL_MAX_INTERVAL,
                       cancel: threading.Event | None = None) -> dict[tuple[str, int], GuestProcess]:
    """Poll until every (guest, pid) has ended; returns {(vm name, pid): process}.

    One ListProcessesInGuest per VM per poll (all of its pids at once); the
    interval grows from ``interval`` to ``max_interval``. A pid the guest no
    longer lists counts as ended with an unknown exit code. Raises
    GuestOpsError on timeout or when ``cancel`` is set; guest faults
    propagate as typed errors.
    """
    by_vm: dict[str, tuple[Guest, set[int]]] = {}
    for guest, pid in waits:
        by_vm.setdefault(guest.name, (guest, set()))[1].add(pid)
    done: dict[tuple[str, int], GuestProcess] = {}
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        for name, (guest, pending) in list(by_vm.items()):
            listed = guest.processes(sorted(pending))
            for pid in sorted(pending):
                proc = listed.get(pid)
                if proc is None:
                    done[(name, pid)] = GuestProcess(pid=pid, lost=True)
                elif proc.ended:
                    done[(name, pid)] = proc
                else:
                    continue
                pending.discard(pid)
            if not pending:
                del by_vm[name]
        if not by_vm:
            return done
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            left = ", ".join(f"{n} pid {p}" for n, (_, ps) in sorted(by_vm.items()) for p in sorted(ps))
            raise GuestOpsError(f"timed out after {timeout:.0f}s waiting for guest program(s): {left}")
        if cancel is None:
            time.sleep(min(delay, remaining))
        elif cancel.wait(min(delay, remaining)):
            raise GuestOpsError("interrupted while waiting for guest program(s)")
        delay = min(max_interval, delay * POLL_GROWTH)
