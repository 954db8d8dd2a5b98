"""HTTPS transfers of guest files, to the ESXi host that runs the VM.

Through vCenter, InitiateFileTransferToGuest / FromGuest return a URL naming the
ESXi host by its inventory name. That name often does not resolve from the
client, and the host presents its own certificate (self-signed, or signed by the
VMCA), not one the vCenter CA file vouches for. As govc does
(guest.FileManager.TransferURL):

- the host's ``summary.config.sslThumbprint`` is read through the PropertyCollector,
  with its management address, once per session for all hosts (again only for a
  host that appeared since), never per transfer;
- the connection goes to the name when it resolves, else to the management address
  (the selected ``management`` adapter of ``config.virtualNicManagerInfo``, else vmk0);
- the certificate is verified by that pin: the hash of the certificate the host
  presents must equal the thumbprint vCenter holds for it: SHA-1 (20 bytes, what
  vSphere 7 gives) or SHA-256 (32 bytes: vSphere is moving to it; govmomi takes
  both since 2024), told apart by the pin's length. A host without a thumbprint
  is verified like vCenter (CA file or system store, and its name). Verification
  is never turned off.

A URL whose host is ``*`` (the session connected straight to an ESXi host) goes to
the session's server, verified as the session is.
"""
from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from vhpc_toolkit.errors import VhpcError

HTTP_TIMEOUT = 120.0
HOST_PROPS = ["summary.config.sslThumbprint", "config.virtualNicManagerInfo.netConfig", "config.network.vnic"]


class TransferFailed(VhpcError):
    """A guest file transfer failed (HTTP, TLS or the host's certificate)."""


def transfer_url(url: str, server: str) -> str:
    """The transfer URL with a ``*`` host replaced by ``server`` (port and path kept)."""
    parts = urlsplit(url)
    if parts.hostname != "*":
        return url
    name = f"[{server}]" if ":" in server and not server.startswith("[") else server
    netloc = name + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_PIN_HASHES = {20: hashlib.sha1, 32: hashlib.sha256, 64: hashlib.sha512}


def thumbprint(der: bytes, pin: str | None = None) -> str:
    """A certificate's thumbprint as vSphere writes them (``AA:BB:...``): SHA-1, or the hash whose length
    ``pin`` has (SHA-256, SHA-512)."""
    size = len((pin or "").replace(":", "")) // 2
    digest = _PIN_HASHES.get(size, hashlib.sha1)(der).digest()
    return ":".join(f"{b:02X}" for b in digest)


def management_ips(net_config, vnics) -> list[str]:
    """The host's management addresses: the selected vNICs of its ``management`` net
    config (as govc reads them), else vmk0's."""
    ips = []
    for nc in net_config or []:
        if nc.nicType != "management":
            continue
        selected = set(nc.selectedVnic or [])
        ips += [v.spec.ip.ipAddress for v in nc.candidateVnic or []
                if v.key in selected and v.spec.ip and v.spec.ip.ipAddress]
    if not ips:
        ips = [v.spec.ip.ipAddress for v in vnics or [] if v.device == "vmk0" and v.spec.ip and v.spec.ip.ipAddress]
    return ips


@dataclass(frozen=True)
class HostEndpoint:
    """How to reach one ESXi host for transfers."""

    name: str                       # inventory name, as transfer URLs give it
    thumbprint: str | None          # summary.config.sslThumbprint (None: verify with the CA)
    addresses: tuple[str, ...] = ()  # management addresses


class HostDirectory:
    """The session's ESXi hosts, read once (all hosts in one PropertyCollector read)."""

    def __init__(self, session):
        self._session = session
        self._lock = threading.Lock()
        self._hosts: dict[str, HostEndpoint] | None = None
        self._resolves: dict[str, bool] = {}

    def _read(self) -> dict[str, HostEndpoint]:
        from vhpc_toolkit.vsphere.inventory import read_inventory

        inv = read_inventory(self._session, {"HostSystem": HOST_PROPS})
        hosts = {}
        for h in inv.of_type("HostSystem"):
            ep = HostEndpoint(h.name, h.get("summary.config.sslThumbprint") or None,
                              tuple(management_ips(h.get("config.virtualNicManagerInfo.netConfig"),
                                                   h.get("config.network.vnic"))))
            hosts[h.name.lower()] = ep
            for ip in ep.addresses:          # a host added to vCenter by its address
                hosts.setdefault(ip, ep)
        return hosts

    def endpoint(self, name: str) -> HostEndpoint | None:
        """The host a URL names; None when no host of vCenter has that name or address."""
        key = name.lower()
        with self._lock:
            if self._hosts is None or key not in self._hosts:
                self._hosts = self._read()    # first use, or a host added since
            return self._hosts.get(key)

    def resolves(self, name: str, port: int) -> bool:
        with self._lock:
            if name not in self._resolves:
                try:
                    socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
                    self._resolves[name] = True
                except (socket.gaierror, UnicodeError):
                    self._resolves[name] = False
            return self._resolves[name]


def directory(session) -> HostDirectory:
    """The session's host directory (made on first use)."""
    found = getattr(session, "_vhpc_host_directory", None)
    if found is None:
        found = session._vhpc_host_directory = HostDirectory(session)
    return found


def _pinned_context() -> ssl.SSLContext:
    # The chain and name are not what is checked here: the pin is (see _Connection.connect).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class _Connection(http.client.HTTPSConnection):
    """HTTPS to ``address`` for host ``name``: the certificate must match ``pin`` when
    given, else verify against ``context`` with ``name`` as the expected host name."""

    def __init__(self, name: str, address: str, port: int, context: ssl.SSLContext, pin: str | None,
                 timeout: float):
        super().__init__(address, port, timeout=timeout, context=context)
        self._name, self._pin = name, pin

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        try:
            hostname = None if self._pin else self._name
            self.sock = self._context.wrap_socket(raw, server_hostname=hostname)
        except BaseException:
            raw.close()
            raise
        if self._pin:
            got = thumbprint(self.sock.getpeercert(binary_form=True) or b"", self._pin)
            if got != self._pin.upper():
                self.sock.close()
                raise TransferFailed(f"the certificate of host {self._name} ({self.host}) has thumbprint {got}, "
                                     f"not {self._pin.upper()} as vCenter says; refusing to send or fetch files")


def _target(session, url: str):
    """(name, address, port, context, pin) for a transfer URL."""
    parts = urlsplit(transfer_url(url, session.server))
    name = parts.hostname or ""
    port = parts.port or 443
    if urlsplit(url).hostname == "*":              # connected straight to an ESXi host
        return name, name, port, session.ssl_context, None
    ep = directory(session).endpoint(name)
    if ep is None:                                 # not a host of this vCenter: verify like vCenter
        return name, name, port, session.ssl_context, None
    address = name
    if not directory(session).resolves(name, port) and ep.addresses:
        address = ep.addresses[0]
    if ep.thumbprint:
        return name, address, port, _pinned_context(), ep.thumbprint
    return name, address, port, session.ssl_context, None


def transfer(session, url: str, data: bytes | None = None, method: str = "GET",
             timeout: float = HTTP_TIMEOUT) -> bytes:
    """PUT ``data`` to, or GET from, a guest file transfer URL; returns the body.

    Raises TransferFailed with one line (HTTP status, TLS, pin mismatch, network).
    """
    name, address, port, context, pin = _target(session, url)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    where = name if address == name else f"{name} ({address})"
    conn = _Connection(name, address, port, context, pin, timeout)
    try:
        headers = {"Host": f"{name}:{port}"}
        if data is not None:
            headers.update({"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status >= 300:
            raise TransferFailed(f"host {where}: HTTP {resp.status} {resp.reason}")
        return body
    except ssl.SSLCertVerificationError as exc:
        raise TransferFailed(f"TLS certificate of host {where} could not be verified "
                             f"({exc.verify_message}) and vCenter gives no thumbprint for it") from None
    except (OSError, http.client.HTTPException) as exc:
        raise TransferFailed(f"host {where}: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        conn.close()
