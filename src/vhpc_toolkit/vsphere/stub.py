"""pyVmomi's SOAP stub, wrapped: one transparent re-login when vCenter ends the session, and
one clear error when the connection breaks.

vCenter ends a session after 30 idle minutes (by default) or when an administrator
terminates it; every later call gets ``NotAuthenticated`` (property reads report it per
property in ``missingSet``). The wrapper then logs in again with the credentials it
keeps in memory (never on disk) and repeats the call once; a second refusal is a
:class:`SessionLost`. Objects a session owned (container views, property collectors)
die with it: ``generation`` counts logins so that callers holding such objects
(inventory reads, watches) can see that they must make them again.

A broken connection is retried once for calls that only read; a call that changes
something is never repeated (vCenter may have done it), and raises
:class:`ConnectionLost` saying so.
"""
from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
from typing import Callable

from pyVmomi.SoapAdapter import StubAdapterBase

from vhpc_toolkit import audit
from vhpc_toolkit.errors import ConnectionLost, NoAnswer, SessionLost
from vhpc_toolkit.vsphere import fastread

log = logging.getLogger(__name__)

# Calls that change nothing on vCenter: repeated once after a broken connection.
READ_METHODS = frozenset({
    "RetrieveServiceContent", "RetrieveProperties", "RetrievePropertiesEx", "ContinueRetrievePropertiesEx",
    "CancelRetrievePropertiesEx", "RetrieveContents", "Fetch", "WaitForUpdatesEx", "WaitForUpdates",
    "CheckForUpdates", "CreateContainerView", "CreateListView", "DestroyView", "CreatePropertyCollector",
    "DestroyPropertyCollector", "CreateFilter", "DestroyPropertyFilter", "CurrentTime", "QueryConfigTarget",
    "QueryConfigOption", "QueryConfigOptionDescriptor", "FindByUuid", "FindAllByUuid", "FindByIp", "FindAllByIp",
    "FindByDnsName", "FindAllByDnsName", "FindByInventoryPath", "FindChild", "FindByDatastorePath",
    "ListProcessesInGuest", "InitiateFileTransferFromGuest",
})
PROPERTY_READS = frozenset({"RetrieveProperties", "RetrievePropertiesEx", "ContinueRetrievePropertiesEx",
                            "RetrieveContents"})
# Courtesies: freeing what the session holds (vCenter frees it with the session) and asking a task to
# stop. Once vCenter has stopped answering they are not sent: each would wait the read timeout.
COURTESIES = frozenset({"DestroyPropertyCollector", "DestroyView", "DestroyCollector", "DestroyPropertyFilter",
                        "CancelWaitForUpdates", "CancelRetrievePropertiesEx", "CancelTask"})
MAX_RELOGINS = 5       # per run: a vCenter that ends every session at once is not worth chasing
NETWORK_ERRORS = (OSError, http.client.HTTPException, ssl.SSLError)


def _not_authenticated(fault) -> bool:
    return type(fault).__name__ == "NotAuthenticated" or getattr(fault, "_wsdlName", "") == "NotAuthenticated"


def _session_refused(method: str, status: int, obj) -> bool:
    """Did vCenter answer as it does to a call of an ended session?"""
    if status != 200:
        return _not_authenticated(obj)
    if method not in PROPERTY_READS or obj is None:
        return False
    objects = obj if isinstance(obj, list) else getattr(obj, "objects", None) or []
    return any(_not_authenticated(getattr(m, "fault", None))
               for oc in objects for m in (getattr(oc, "missingSet", None) or []))


class ReloginStub(StubAdapterBase):
    """Wraps a pyVmomi SoapStubAdapter; managed objects made through it call through it."""

    def __init__(self, inner, login: Callable[[object], None], where: str, read_timeout: float | None = None):
        self.inner = inner           # first: __getattr__ reads it
        StubAdapterBase.__init__(self, version=inner.version)
        self.DropConnections = inner.DropConnections
        self._login = login          # login(inner_stub): a new session on the inner stub
        self._where = where
        self._read_timeout = read_timeout
        self._lock = threading.Lock()
        self.generation = 0          # +1 per new login
        self.relogins = 0
        self.audit = None            # an audit.AuditLog when the run keeps an audit trail
        self.silent = False          # the last call got no answer within the read timeout

    def __getattr__(self, name):     # cookie, host, poolSize, ... of the inner stub
        return getattr(self.inner, name)

    # --- calls ---------------------------------------------------------------------------------

    def InvokeMethod(self, mo, info, args):
        method = info.wsdlName
        if self.audit is None or not audit.is_change(method):
            return self._invoke(mo, info, args)
        try:     # the audit trail (audit.py): every change call, with its task or outcome
            result = self._invoke(mo, info, args)
        except ConnectionLost as exc:
            self.audit.unknown(method, mo, str(exc))
            raise
        except Exception as exc:
            self.audit.call(method, mo, audit.plain_params(info, args),
                            fault=getattr(exc, "msg", None) or type(exc).__name__)
            raise
        self.audit.call(method, mo, audit.plain_params(info, args), result)
        return result

    def _invoke(self, mo, info, args):
        method = info.wsdlName
        generation = self.generation
        status, obj = self._call(mo, info, args)
        if _session_refused(method, status, obj):
            self._relogin(generation, method)
            status, obj = self._call(mo, info, args)
            if _session_refused(method, status, obj):
                raise SessionLost(f"vCenter {self._where} refused {method} again right after a new login "
                                  "(the session was ended twice)")
        if status == 200:
            return obj
        raise obj

    def _call(self, mo, info, args):
        method = info.wsdlName
        if self.silent and method in COURTESIES:
            raise NoAnswer(f"vCenter {self._where} stopped answering; {method} not sent")
        for attempt in (1, 2):
            try:
                if method in fastread.METHODS:   # large reads decoded faster, same results
                    answer = fastread.invoke(self.inner, mo, info, args, self)
                else:
                    answer = self.inner.InvokeMethod(mo, info, args, self)
                self.silent = False
                return answer
            except NETWORK_ERRORS as exc:
                if isinstance(exc, socket.timeout) or "timed out" in str(exc):
                    self.silent = True   # one bounded attempt per call from now on, no courtesies
                    raise NoAnswer(f"vCenter {self._where} did not answer {method} within "
                                   f"{self._read_timeout:g} s (read_timeout)") from None
                if attempt == 1 and method in READ_METHODS:
                    log.debug("connection lost during %s (%s); trying once more", method, exc)
                    continue
                unsent = isinstance(exc, ConnectionRefusedError)
                outcome = "" if method in READ_METHODS or unsent else "; vCenter may or may not have done it"
                raise ConnectionLost(f"connection to vCenter {self._where} lost during {method} "
                                     f"({_reason(exc)}){outcome}") from None
        raise AssertionError("unreachable")

    def _relogin(self, generation: int, method: str) -> None:
        with self._lock:
            if self.generation != generation:
                return       # another thread logged in again meanwhile
            if self.relogins >= MAX_RELOGINS:
                raise SessionLost(f"vCenter {self._where} ended the session {self.relogins + 1} times in this run")
            log.debug("vCenter ended the session (%s refused); logging in again", method)
            try:
                self._login(self.inner)
            except (ConnectionLost, SessionLost):
                raise
            except NETWORK_ERRORS as exc:
                raise ConnectionLost(f"vCenter {self._where} ended the session and could not be reached "
                                     f"to log in again ({_reason(exc)})") from None
            except Exception as exc:   # InvalidLogin (the password changed meanwhile), NoPermission, ...
                msg = getattr(exc, "msg", None) or type(exc).__name__
                raise SessionLost(f"vCenter {self._where} ended the session and a new login failed: {msg}") from None
            self.generation += 1
            self.relogins += 1


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
