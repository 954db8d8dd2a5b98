"""Connecting to vCenter: TLS verified by default, errors as one line each."""
from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass
from typing import Any

from vhpc_toolkit.errors import ConnectionFailed

log = logging.getLogger(__name__)


def ssl_context(ca_file: str | None, insecure: bool) -> ssl.SSLContext:
    """An explicit context: pyVmomi skips verification for localhost unless given one."""
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConnectionFailed(f"cannot load ca_file {ca_file}: {exc}") from None


@dataclass
class Session:
    """A logged-in connection: the service instance and its (cached) service content."""

    si: Any
    content: Any
    server: str
    port: int
    ssl_context: ssl.SSLContext
    task_timeout: float | None = None   # seconds one vSphere task may take (None: vsphere.tasks' default)

    def close(self) -> None:
        try:
            self.content.sessionManager.Logout()
        except Exception:  # logging out is a courtesy; never mask the real outcome
            log.debug("logout failed", exc_info=True)


def connect(settings) -> Session:
    from pyVim.connect import SmartConnect
    from pyVmomi import vim

    ctx = ssl_context(settings.ca_file, settings.insecure)
    where = f"{settings.server}:{settings.port}"
    trust = settings.ca_file or "the system's CA store"
    log.debug("connecting to %s as %s (CA: %s)", where, settings.username, trust)
    try:
        si = SmartConnect(host=settings.server, port=settings.port, user=settings.username,
                          pwd=settings.password, sslContext=ctx, connectionPoolTimeout=-1)
    except ssl.SSLCertVerificationError as exc:
        raise ConnectionFailed(
            f"TLS certificate of {where} could not be verified against {trust} "
            f"({exc.verify_message}); set ca_file to its CA, or insecure: yes to skip checks"
        ) from None
    except vim.fault.InvalidLogin:
        raise ConnectionFailed(f"login to {where} as {settings.username} failed: "
                               "incorrect user name or password") from None
    except (socket.gaierror, ConnectionError, socket.timeout, ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConnectionFailed(f"cannot reach vCenter at {where}: {reason}") from None
    except vim.fault.VimFault as exc:
        raise ConnectionFailed(f"vCenter {where} refused the session: {exc.msg}") from None
    content = si.RetrieveContent()
    return Session(si=si, content=content, server=settings.server, port=settings.port,
                   ssl_context=ctx)
