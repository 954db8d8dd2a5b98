"""vsphere/fastread.py: property reads decoded without pyVmomi give exactly what pyVmomi gives,
plain values read directly, everything else (data objects, arrays, faults) left to pyVmomi."""
from __future__ import annotations

import pytest
from pyVmomi import vim, vmodl

from vhpc_toolkit.vsphere import fastread, inventory

PLAIN = {"VirtualMachine": ["name", "parent", "runtime.host", "runtime.powerState", "config.template",
                            "guest.ipAddress", "config.hardware.numCPU", "resourcePool"]}
MIXED = {"VirtualMachine": ["name", "runtime.powerState", "config.hardware.device", "config.extraConfig"],
         "HostSystem": ["name", "config.network.pnic", "runtime.connectionState", "vm", "hardware.memorySize"],
         "ClusterComputeResource": ["name", "host"]}


@pytest.fixture(scope="module")
def large_session(large_lab):
    s = large_lab.connect()
    yield s
    s.close()


def _norm(value):
    if isinstance(value, vim.ManagedObject):
        return (type(value).__name__, value._moId)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, vmodl.DynamicData):   # data objects compare by identity: compare their fields
        return (type(value).__name__, {p.name: _norm(getattr(value, p.name)) for p in value._GetPropertyList()})
    return value


def _read(session, props, monkeypatch, fast: bool, decoded: list):
    real = fastread._decode
    monkeypatch.setattr(fastread, "METHODS", frozenset({"RetrievePropertiesEx", "ContinueRetrievePropertiesEx"})
                        if fast else frozenset())
    monkeypatch.setattr(fastread, "_decode", lambda *a: decoded.append(1) or real(*a))
    inv = inventory.read_inventory(session, props)
    return {o.moid: (o.type, {k: _norm(v) for k, v in o.props.items()}) for o in inv.objects.values()}


def test_same_inventory_as_pyvmomi_over_pages(large_session, monkeypatch):
    used: list = []
    fast = _read(large_session, PLAIN, monkeypatch, True, used)
    assert len(used) >= 2, "the fast decoder did not read every page"
    slow = _read(large_session, PLAIN, monkeypatch, False, [])
    assert sum(t == "VirtualMachine" for t, _ in fast.values()) >= 1024
    assert fast == slow


def test_same_inventory_as_pyvmomi_with_data_objects(session, monkeypatch):
    used: list = []
    fast = _read(session, MIXED, monkeypatch, True, used)
    assert used
    assert fast == _read(session, MIXED, monkeypatch, False, [])


def test_plain_values_skip_pyvmomi_and_the_rest_does_not(session, monkeypatch):
    decoded: list = []
    real = fastread.SoapResponseDeserializer
    monkeypatch.setattr(fastread, "SoapResponseDeserializer", lambda stub: decoded.append(1) or real(stub))
    inventory.read_inventory(session, PLAIN)
    assert decoded == []
    inv = inventory.read_inventory(session, MIXED)
    assert decoded     # devices, NICs, arrays: pyVmomi
    host = inv.of_type("HostSystem")[0]
    assert isinstance(host.props["config.network.pnic"][0], vim.host.PhysicalNic)
    vm = inv.of_type("VirtualMachine")[0]
    assert isinstance(vm.props["runtime.powerState"], str) and isinstance(vm.ref, vim.VirtualMachine)


def test_the_answer_cut_down_to_some_objects_is_still_a_document():
    data = (b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<R xmlns="urn:vim25"><returnval><token>t</token><objects><obj type="A">1</obj></objects>'
            b'<objects><obj type="A">2</obj><propSet><name>x</name><val/></propSet></objects>'
            b'<objects><obj type="A">3</obj></objects></returnval></R></s:Body></s:Envelope>')
    cut = fastread._keep_objects(data, [1])
    assert cut.count(b"<objects>") == 1 and b">2</obj><propSet><name>x</name><val/></propSet></objects></returnval>" in cut
    assert b"<token>t</token>" in cut
