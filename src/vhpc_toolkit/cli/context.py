"""What a command needs from the outside world: streams, options, and a lazy vCenter session.

Tests run the whole CLI in-process by calling ``main(argv)``; the console is
created per call so pytest's capture sees its output.
"""
from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping

from rich.console import Console
from rich.markup import escape


def _console(stream, stderr: bool = False) -> Console:
    # Off a terminal rich assumes 80 columns and folds tables; logs and pipes get room instead.
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "200"))
    return Console(stderr=stderr, width=width)


@dataclass
class Context:
    output: str = "text"
    yes: bool = False
    debug: bool = False
    vcenter_conf: str | None = None
    task_timeout: float | None = None   # --task-timeout: seconds each vSphere task may take
    connect_timeout: float | None = None    # --connect-timeout, over vCenter.conf's
    read_timeout: float | None = None       # --read-timeout
    log_file: str | None = None             # --log-file: the audit trail, over vCenter.conf's log_file
    argv: list[str] = field(default_factory=list)   # the command line, for the audit trail
    # Files the command reads (path -> what it is), never to be the audit trail: the log is appended to.
    protected: dict[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    stdin_is_tty: bool = field(default_factory=lambda: sys.stdin.isatty())
    out: Console = field(default_factory=lambda: _console(sys.stdout))
    err: Console = field(default_factory=lambda: _console(sys.stderr, stderr=True))
    _session: Any = None

    @property
    def interactive(self) -> bool:
        return self.stdin_is_tty and not self.yes

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)

    def session(self):
        """Connect on first use; later calls reuse the same session."""
        if self._session is None:
            from vhpc_toolkit.settings import load_settings
            from vhpc_toolkit.vsphere.session import connect

            settings = load_settings(
                self.vcenter_conf,
                self.env,
                interactive=self.interactive,
                prompt_password=lambda msg: getpass.getpass(msg),
            )
            for warning in settings.warnings:
                self.warn(warning)
            settings.connect_timeout = self.connect_timeout or settings.connect_timeout
            settings.read_timeout = self.read_timeout or settings.read_timeout
            if settings.insecure:
                self.warn(f"TLS certificate of {settings.server} is NOT verified (insecure: yes)")
            trail = self._audit_log(settings)   # a log file that cannot be written stops us before login
            self._session = connect(settings)
            self._session.task_timeout = self.task_timeout
            self._session.stub.audit = trail
        return self._session

    def _audit_log(self, settings):
        path = self.log_file or settings.log_file
        if not path:
            return None
        from vhpc_toolkit.audit import AuditLog, command_line
        from vhpc_toolkit.errors import SettingsError

        inputs = dict(self.protected)
        if settings.source != "environment":
            inputs[settings.source] = "the vCenter settings file"
        log = os.path.realpath(os.path.expanduser(path))
        for other, what in inputs.items():
            if os.path.realpath(os.path.expanduser(other)) == log:
                raise SettingsError(f"the log file {path} is {what}: the audit trail would be appended to it; "
                                    "give --log-file (or log_file:) another path")

        return AuditLog(path, settings.username, f"{settings.server}:{settings.port}",
                        command_line(["vhpc_toolkit"] + list(self.argv)))

    def close(self) -> None:
        if self._session is not None:
            trail = getattr(self._session.stub, "audit", None)
            self._session.close()
            if trail is not None:
                trail.close()
            self._session = None
