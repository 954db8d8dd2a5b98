"""Connecting to vCenter: TLS verified by default, timeouts on every connection, one transparent
re-login when vCenter ends the session (vsphere/stub.py), errors as one line each."""
from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.errors import ConnectionFailed
from vhpc_toolkit.settings.timeouts import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT

log = logging.getLogger(__name__)

# Session-owned objects (views, collectors) kept for the logout to free: past this many, the oldest
# are freed at once (a long-lived session, e.g. a library's, does not pile them up on vCenter).
MAX_HELD = 16


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
    stub: Any = None                           # the ReloginStub under si
    read_timeout: float = DEFAULT_READ_TIMEOUT
    admission: Any = None                      # settings.admission.AdmissionModel (vCenter.conf's numbers)
    held: list = field(default_factory=list)   # (object, method, generation) the logout frees

    @property
    def answering(self) -> bool:
        """False once a call got no answer within the read timeout (until one is answered again):
        reads that only make a report better are then not tried (each would wait the timeout)."""
        return not getattr(self.stub, "silent", False)

    @property
    def generation(self) -> int:
        """Logins so far minus one: session-owned objects (views, collectors) of an older
        generation are gone."""
        return self.stub.generation if self.stub is not None else 0

    def free(self, obj: Any, method: str) -> None:
        """Free a view or collector the run is done with. vCenter frees what a session made when
        the session ends (ViewManager, PropertyCollector.CreatePropertyCollector), and a command
        logs out as it ends: each is kept until then, a round trip saved, unless many pile up.
        What an earlier session (before a re-login) made went with it: never sent."""
        self.held = [h for h in self.held if h[2] == self.generation] + [(obj, method, self.generation)]
        while len(self.held) > MAX_HELD:
            courtesy(*self.held.pop(0)[:2])

    def close(self) -> None:
        self.held.clear()   # the logout frees them (and a session that has ended, already did)
        try:
            self.content.sessionManager.Logout()
        except Exception:  # logging out is a courtesy; never mask the real outcome
            log.debug("logout failed", exc_info=True)


def courtesy(obj: Any, method: str) -> None:
    """Free a session-owned object now, best effort: one already gone (the session ended) is fine."""
    try:
        getattr(obj, method)()
    except Exception:
        log.debug("%s failed", method, exc_info=True)


def free(session, obj: Any, method: str) -> None:
    """``session.free`` where the session keeps objects for its logout, else at once."""
    keep = getattr(session, "free", None)
    if callable(keep):
        keep(obj, method)
    else:
        courtesy(obj, method)


def bound(content: Any, stub: Any) -> Any:
    """The service content with every managed object it names bound to ``stub`` (the re-login
    stub), as if it had been read through it."""
    from pyVmomi.VmomiSupport import ManagedObject

    def rebind(value):
        return type(value)(value._moId, stub) if isinstance(value, ManagedObject) else value

    for prop in content._GetPropertyList():
        value = getattr(content, prop.name)
        if isinstance(value, list):
            setattr(content, prop.name, [rebind(v) for v in value])
        else:
            setattr(content, prop.name, rebind(value))
    return content


def _timed_connection(connect_timeout: float, read_timeout: float):
    """An HTTPS connection class: ``connect_timeout`` to connect and shake hands, then
    ``read_timeout`` for every answer."""

    class TimedHTTPSConnection(http.client.HTTPSConnection):
        def __init__(self, *args, **kwargs):
            kwargs["timeout"] = connect_timeout
            super().__init__(*args, **kwargs)

        def connect(self):
            super().connect()
            self.sock.settimeout(read_timeout)

    return TimedHTTPSConnection


@contextlib.contextmanager
def _default_socket_timeout(seconds: float):
    # pyVmomi's version discovery opens a connection without a timeout of its own.
    saved = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(saved)


def _reachable(server: str, port: int, timeout: float, where: str, ctx: ssl.SSLContext | None = None) -> None:
    """One TCP connection and its TLS handshake, each within ``timeout``: a stopped or unreachable
    vCenter, or a server that takes the connection and never shakes hands, is one clear line. (The
    login's own connection waits with the read timeout: pyVmomi gives it one timeout for all.)"""
    try:
        sock = socket.create_connection((server, port), timeout=timeout)
    except socket.timeout:
        raise ConnectionFailed(f"cannot reach vCenter at {where}: no connection within {timeout:g} s "
                               "(connect_timeout)") from None
    except OSError as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConnectionFailed(f"cannot reach vCenter at {where}: {reason}") from None
    try:
        if ctx is not None:
            ctx.wrap_socket(sock, server_hostname=server if ctx.check_hostname else None).close()
    except socket.timeout:
        raise ConnectionFailed(f"vCenter at {where} took the connection but did not complete the TLS handshake "
                               f"within {timeout:g} s (connect_timeout)") from None
    except (ssl.SSLError, OSError):   # a certificate it cannot verify, ...: the login says it precisely
        pass
    finally:
        sock.close()


def connect(settings) -> Session:
    from pyVim.connect import SmartStubAdapter
    from pyVmomi import vim

    from vhpc_toolkit.vsphere.stub import ReloginStub

    ctx = ssl_context(settings.ca_file, settings.insecure)
    connect_timeout = getattr(settings, "connect_timeout", None) or DEFAULT_CONNECT_TIMEOUT
    read_timeout = getattr(settings, "read_timeout", None) or DEFAULT_READ_TIMEOUT
    where = f"{settings.server}:{settings.port}"
    trust = settings.ca_file or "the system's CA store"
    log.debug("connecting to %s as %s (CA: %s; timeouts %gs connect, %gs read)", where, settings.username,
              trust, connect_timeout, read_timeout)
    _reachable(settings.server, settings.port, connect_timeout, where, ctx)
    try:
        with _default_socket_timeout(read_timeout):
            # SmartConnect's steps without its second RetrieveServiceContent: the version, the
            # service content (read once, kept), the login.
            inner = SmartStubAdapter(host=settings.server, port=settings.port, sslContext=ctx,
                                     connectionPoolTimeout=-1, httpConnectionTimeout=read_timeout)
            inner.scheme = _timed_connection(connect_timeout, read_timeout)   # both timeouts from the first call
            content = vim.ServiceInstance("ServiceInstance", inner).RetrieveContent()
            content.sessionManager.Login(userName=settings.username, password=settings.password)
    except ssl.SSLCertVerificationError as exc:
        raise ConnectionFailed(
            f"TLS certificate of {where} could not be verified against {trust} "
            f"({exc.verify_message}); set ca_file to its CA, or insecure: yes to skip checks"
        ) from None
    except vim.fault.InvalidLogin:
        raise ConnectionFailed(f"login to {where} as {settings.username} failed: "
                               "incorrect user name or password") from None
    except socket.timeout:
        raise ConnectionFailed(f"vCenter at {where} did not answer within {read_timeout:g} s "
                               "(read_timeout)") from None
    except (socket.gaierror, ConnectionError, ssl.SSLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConnectionFailed(f"cannot reach vCenter at {where}: {reason}") from None
    except vim.fault.VimFault as exc:
        raise ConnectionFailed(f"vCenter {where} refused the session: {exc.msg}") from None

    user, password = settings.username, settings.password   # kept in memory for a re-login only
    manager_id = content.sessionManager._moId                # vCenter's

    def login(stub) -> None:
        vim.SessionManager(manager_id, stub).Login(userName=user, password=password)

    stub = ReloginStub(inner, login, where, read_timeout)
    si = vim.ServiceInstance("ServiceInstance", stub)
    content = bound(content, stub)
    return Session(si=si, content=content, server=settings.server, port=settings.port,
                   ssl_context=ctx, stub=stub, read_timeout=read_timeout,
                   admission=getattr(settings, "admission", None))
