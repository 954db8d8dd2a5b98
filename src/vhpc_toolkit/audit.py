"""The audit trail: every change the toolkit asks of vCenter, one line each, appended to a file.

Turned on by ``--log-file PATH`` or ``log_file:`` in vCenter.conf. Each line is logfmt
(``key=value``, values with spaces quoted), so it reads as text and parses with any logfmt reader:

    time=2026-12-07T10:15:03+00:00 user=administrator@vsphere.local vcenter=vc.example.org:443 pid=4242
      call=CloneVM_Task object=VirtualMachine:vm-31 object_name=vhpc_clone name=node1 task=task-101

    time=... user=... vcenter=... pid=4242 task=task-101 call=CloneVM_Task object_name=node1 outcome=success
      result=VirtualMachine:vm-77

The first is written when vCenter accepts the call (before its outcome is known: a run killed
half-way still leaves what it asked); for a task, a second line with the same ``task=`` gives its
outcome once the toolkit has seen it. A change that is not a task (a custom attribute set, a
standard switch added) is one line with its outcome. Reads are never written, nor are secrets
(arguments named like passwords, and data objects, are left out).

Commands that change things outside vCenter's calls (a Slurm hook, a guest script) call
:meth:`AuditLog.record` with what they did.
"""
from __future__ import annotations

import datetime
import os
import re
import shlex
import threading
from pathlib import Path
from typing import Any

from vhpc_toolkit.errors import SettingsError

# Calls that change nothing on vCenter besides the caller's own session state.
_NOT_CHANGES = re.compile(r"^(Retrieve|Query|Find|List|Read|Validate|Check|Browse|Search|Acquire|Login|Logout|"
                          r"WaitFor|Fetch|CurrentTime|SessionIsActive|Rewind|Reset.*Collector|"
                          r"(Create|Destroy|Modify)(ContainerView|ListView|InventoryView|View|PropertyCollector|"
                          r"Filter|PropertyFilter|CollectorFor.*)|Destroy(Collector|View|PropertyFilter)|"
                          r"CancelRetrievePropertiesEx|CancelWaitForUpdates|SetCollectorPageSize|"
                          r"InitiateFileTransferFromGuest)")
_SECRET = re.compile(r"pass|secret|token|auth|key$", re.IGNORECASE)
# The options that take a secret: argparse takes any unambiguous prefix of them too
# (tests/unit/test_audit_line.py keeps this in step with the parser).
SECRET_OPTIONS = ("guest_password",)
_BARE = re.compile(r"^[\w@.:/+,-]+$")


def is_change(method: str) -> bool:
    """Whether a vSphere API method changes something (everything but reads and session plumbing)."""
    return not _NOT_CHANGES.match(method)


def _quote(value: Any) -> str:
    text = str(value).replace("\n", " ")
    return text if text and _BARE.match(text) else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _secret_flag(flag: str) -> bool:
    """Whether ``--flag`` names a secret option, or may be argparse's abbreviation of one."""
    if not flag.startswith("--"):
        return False
    name = flag[2:].replace("-", "_")
    return bool(_SECRET.search(flag)) or (len(name) >= 3 and any(o.startswith(name) for o in SECRET_OPTIONS))


def command_line(argv: list[str]) -> str:
    """The command as typed, with the values of secret-looking flags replaced."""
    out, hide = [], False
    for arg in argv:
        if hide:
            out.append("***")
            hide = False
            continue
        flag, sep, value = arg.partition("=")
        if _secret_flag(flag):
            if sep:
                out.append(f"{flag}=***")
            else:
                out.append(arg)
                hide = True
            continue
        out.append(arg)
    return shlex.join(out)


class AuditLog:
    """One run's audit trail: appends lines to ``path`` (made with mode 600 when new)."""

    def __init__(self, path: str | Path, user: str, vcenter: str, command: str = ""):
        self.path = Path(path).expanduser()
        self.user, self.vcenter, self.command = user, vcenter, command
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}            # moid -> name, from the inventory reads
        self._tasks: dict[str, dict[str, str]] = {}  # task moid -> what its call line said
        self._started = False
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SettingsError(f"cannot write the log file {path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    # --- the API ----------------------------------------------------------------------------------

    def record(self, **fields: Any) -> None:
        """Append one line: the time, user, vCenter and process, then ``fields`` (None left out)."""
        now = datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")
        head = {"time": now, "user": self.user, "vcenter": self.vcenter, "pid": os.getpid()}
        with self._lock:
            if self._fd is None:
                return
            if not self._started and self.command:   # the command once, before its first change
                self._started = True
                self._write({**head, "command": self.command})
            self._write({**head, **{k: v for k, v in fields.items() if v is not None and v != ""}})

    def learn(self, names: dict[str, str]) -> None:
        """Names of objects by moid (from inventory reads), so lines can say which object."""
        self._names.update(names)

    def call(self, method: str, mo: Any, params: list[tuple[str, Any]], result: Any = None,
             fault: str | None = None) -> None:
        """A change call as vCenter answered it: its task, or its outcome when it is not a task."""
        obj = _ref(mo)
        fields = {"call": method, "object": obj, "object_name": self._names.get(obj.split(":")[-1])}
        fields.update({name: value for name, value in params if not _SECRET.search(name)})
        task = _ref(result) if type(result).__name__.endswith("Task") and hasattr(result, "_moId") else None
        if task:
            fields["task"] = task.split(":")[-1]
            self._tasks[fields["task"]] = {k: v for k, v in fields.items() if k in ("call", "object_name", "name")}
        else:
            fields["outcome"] = "failed" if fault else "done"
            fields["fault"] = fault
        self.record(**fields)

    def task_ended(self, task_moid: str, state: str, error: str | None = None, result: Any = None) -> None:
        """A task's outcome (``success`` or ``error``), on a line of its own with the same ``task=``."""
        asked = self._tasks.pop(task_moid, None)
        if asked is None:
            return        # a task this run did not start (another client's), or reported already
        res = _ref(result) if hasattr(result, "_moId") else None
        self.record(task=task_moid, **asked, outcome=state, result=res, fault=error)

    def unknown(self, method: str, mo: Any, why: str) -> None:
        """A change call whose answer never came: vCenter may or may not have done it."""
        obj = _ref(mo)
        self.record(call=method, object=obj, object_name=self._names.get(obj.split(":")[-1]),
                    outcome="unknown", fault=why)

    def _write(self, fields: dict[str, Any]) -> None:
        line = " ".join(f"{k}={_quote(v)}" for k, v in fields.items()) + "\n"
        os.write(self._fd, line.encode("utf-8", "replace"))


def _ref(mo: Any) -> str:
    """``VirtualMachine:vm-31`` for a managed object reference."""
    moid = getattr(mo, "_moId", None)
    if moid is None:
        return str(mo)
    kind = getattr(mo, "_wsdlName", None) or type(mo).__name__.rsplit(".", 1)[-1]
    return f"{kind}:{moid}"


def plain_params(info: Any, args: list[Any]) -> list[tuple[str, Any]]:
    """The plain (string, number, boolean) arguments of a call, by name: a new VM's name, a switch's
    name, a guest path. Data objects (specs, guest credentials) are left out."""
    out = []
    for param, value in zip(getattr(info, "params", None) or [], args or []):
        if isinstance(value, bool) or (isinstance(value, (str, int, float)) and len(str(value)) <= 200):
            out.append((param.name, value))
    return out


def of(session: Any) -> AuditLog | None:
    """The audit log a session writes to, if any."""
    return getattr(getattr(session, "stub", None), "audit", None)
