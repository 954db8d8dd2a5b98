"""Inventory lookups are kept: a plan of N VMs does not scan the inventory N times."""
from types import SimpleNamespace

import pytest

from vhpc_toolkit.errors import NotFound
from vhpc_toolkit.vsphere.inventory import Obj, Inventory


def obj(moid: str, type_: str, name: str) -> Obj:
    return Obj(ref=SimpleNamespace(_moId=moid), type=type_, props={"name": name})


def inventory(n_vms: int) -> Inventory:
    inv = Inventory()
    for o in [obj("host-1", "HostSystem", "esx1")] + [obj(f"vm-{i}", "VirtualMachine", f"vm{i}") for i in range(n_vms)]:
        inv.objects[o.moid] = o
    return inv


def test_find_scans_the_inventory_once_per_name(monkeypatch):
    inv = inventory(1000)
    scans = []
    real = Inventory._find
    monkeypatch.setattr(Inventory, "_find", lambda self, *a: scans.append(a[1]) or real(self, *a))
    for _ in range(500):
        assert inv.find("VirtualMachine", "vm7").moid == "vm-7"
        assert inv.find("HostSystem", "esx1").moid == "host-1"
    assert scans == ["vm7", "esx1"]


def test_failures_are_not_kept_and_new_objects_are_seen():
    inv = inventory(3)
    with pytest.raises(NotFound):
        inv.find("VirtualMachine", "late")
    assert len(inv.of_type("VirtualMachine")) == 3
    inv.objects["vm-99"] = obj("vm-99", "VirtualMachine", "late")
    assert inv.find("VirtualMachine", "late").moid == "vm-99"
    assert len(inv.of_type("VirtualMachine")) == 4


def test_device_users_are_counted_in_one_scan(monkeypatch):
    from pyVmomi import vim

    from vhpc_toolkit.ops.hosts import offers as devices

    inv = inventory(0)
    host = SimpleNamespace(_moId="host-1")
    for i in range(50):
        nic = vim.vm.device.VirtualSriovEthernetCard()
        nic.sriovBacking = vim.vm.device.VirtualSriovEthernetCard.SriovBackingInfo(
            physicalFunctionBacking=vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(id="0000:AF:00.0"))
        o = obj(f"vm-{i}", "VirtualMachine", f"vm{i}")
        o.props.update({"runtime.host": host, "runtime.powerState": "poweredOn" if i % 2 else "poweredOff",
                        "config.hardware.device": [nic]})
        inv.objects[o.moid] = o
    scans = []
    real = devices._vf_counts
    monkeypatch.setattr(devices, "_vf_counts", lambda s, on: scans.append(on) or real(s, on))
    for _ in range(100):
        assert devices.vfs_in_use(inv, "host-1", "0000:af:00.0") == 25
        assert devices.vfs_in_use(inv, "host-1", "0000:af:00.0", powered_on_only=False) == 50
        assert devices.vfs_in_use(inv, "host-2", "0000:af:00.0") == 0
    assert scans == [True, False]


def test_cluster_read_looks_into_the_files_vms_templates_and_device_holders():
    from vhpc_toolkit.cluster.planning.read import _looked_into

    inv = inventory(0)
    for moid, name, power in [("vm-1", "node1", "poweredOff"), ("vm-2", "tmpl", "poweredOff"),
                              ("vm-3", "other-on", "poweredOn"), ("vm-4", "other-off", "poweredOff")]:
        o = obj(moid, "VirtualMachine", name)
        o.props["runtime.powerState"] = power
        inv.objects[moid] = o
    vm = SimpleNamespace(name="node1", template="/HPC_Datacenter/vm/tmpl", device=[], vgpu=None,
                         sriov_port_group=None, pvrdma_port_group=None, gpu=None, requests_placement=False,
                         hugepages_1g=None, pattern=None)
    spec = SimpleNamespace(vms=[vm, SimpleNamespace(**{**vars(vm), "name": "node2"})])
    assert sorted(o.name for o in _looked_into(inv, spec)) == ["node1", "tmpl"]
    vm.device = ["0000:3b:00.0"]   # devices: powered-on VMs may hold them
    assert sorted(o.name for o in _looked_into(inv, spec)) == ["node1", "other-on", "tmpl"]
    vm.device = []
    spec.vms[1].requests_placement = True   # no host: the planner counts what running VMs hold
    assert sorted(o.name for o in _looked_into(inv, spec)) == ["node1", "other-on", "tmpl"]
    spec.vms[1].requests_placement = False
    inv.objects["vm-5"] = obj("vm-5", "VirtualMachine", "node7")
    assert sorted(o.name for o in _looked_into(inv, spec)) == ["node1", "tmpl"]
    vm.pattern = spec.vms[1].pattern = r"node\d+$"   # a range: its strays' owner marks are read
    assert sorted(o.name for o in _looked_into(inv, spec)) == ["node1", "node7", "tmpl"]
