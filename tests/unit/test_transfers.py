"""Where guest file transfers go and how the ESXi host is verified (vsphere/guest/transfers.py), no server."""
from __future__ import annotations

import ssl
from types import SimpleNamespace

from vhpc_toolkit.vsphere.guest import transfers
from vhpc_toolkit.vsphere.guest.transfers import HostEndpoint, management_ips, thumbprint


def vnic(device, ip, key=None):
    return SimpleNamespace(device=device, key=key or f"key-{device}", spec=SimpleNamespace(ip=SimpleNamespace(ipAddress=ip)))


def test_thumbprint_is_vsphere_style_sha1():
    tp = thumbprint(b"certificate")
    assert len(tp) == 59 and tp == tp.upper() and tp.count(":") == 19


def test_management_ips_prefer_the_selected_management_adapter():
    mgmt = SimpleNamespace(nicType="management", selectedVnic=["management.vmk1"],
                           candidateVnic=[vnic("vmk0", "10.0.0.1", "management.vmk0"),
                                          vnic("vmk1", "10.0.0.2", "management.vmk1")])
    vmotion = SimpleNamespace(nicType="vmotion", selectedVnic=["v"], candidateVnic=[vnic("vmk2", "10.0.0.3", "v")])
    assert management_ips([vmotion, mgmt], [vnic("vmk0", "10.0.0.1")]) == ["10.0.0.2"]
    assert management_ips(None, [vnic("vmk1", "10.0.0.9"), vnic("vmk0", "10.0.0.1")]) == ["10.0.0.1"]


class FakeDirectory:
    def __init__(self, endpoint, resolves):
        self._ep, self._resolves = endpoint, resolves

    def endpoint(self, name):
        return self._ep if self._ep and name == self._ep.name else None

    def resolves(self, name, port):
        return self._resolves


def session(directory):
    ctx = ssl.create_default_context()
    s = SimpleNamespace(server="vc.example.org", ssl_context=ctx)
    s._vhpc_host_directory = directory
    return s


EP = HostEndpoint("esx1.example.org", "AA:BB", ("192.0.2.10",))


def test_a_host_whose_name_does_not_resolve_is_reached_at_its_management_address_and_pinned():
    s = session(FakeDirectory(EP, resolves=False))
    name, address, port, ctx, pin = transfers._target(s, "https://esx1.example.org:443/guestFile?id=1")
    assert (name, address, port, pin) == ("esx1.example.org", "192.0.2.10", 443, "AA:BB")
    assert ctx is not s.ssl_context   # the pin replaces the CA check, not verification


def test_a_resolving_host_is_reached_by_name_still_pinned():
    s = session(FakeDirectory(EP, resolves=True))
    assert transfers._target(s, "https://esx1.example.org/guestFile?id=1")[1] == "esx1.example.org"
    assert transfers._target(s, "https://esx1.example.org/guestFile?id=1")[4] == "AA:BB"


def test_a_host_without_thumbprint_is_verified_like_vcenter():
    s = session(FakeDirectory(HostEndpoint("esx1.example.org", None, ("192.0.2.10",)), resolves=False))
    name, address, _, ctx, pin = transfers._target(s, "https://esx1.example.org/guestFile?id=1")
    assert pin is None and ctx is s.ssl_context and ctx.verify_mode == ssl.CERT_REQUIRED


def test_the_star_form_goes_to_the_session_server_with_its_verification():
    s = session(FakeDirectory(None, resolves=False))
    name, address, port, ctx, pin = transfers._target(s, "https://*:8443/guestFile?id=1")
    assert (name, address, port, pin) == ("vc.example.org", "vc.example.org", 8443, None)
    assert ctx is s.ssl_context


def test_thumbprint_takes_the_hash_of_the_pins_length():
    sha1 = thumbprint(b"certificate")
    sha256 = thumbprint(b"certificate", "AB:" * 31 + "AB")
    assert len(sha256) == 95 and sha256.count(":") == 31 and sha256 != sha1[:95]
    assert thumbprint(b"certificate", sha1) == sha1 and len(thumbprint(b"c", "00" * 64)) == 64 * 3 - 1
