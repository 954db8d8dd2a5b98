"""Linked clones from a template's snapshot, and guest customization in the guest's adapter order, by the
toolkit on the lab, read back with pyVmomi.

A second template (two VMXNET3 adapters, no snapshot) is made once for the module by cloning vhpc_clone
to a template (pyVmomi), and destroyed at the end.
"""
from __future__ import annotations

import json
import uuid

import pytest
from pyVmomi import vim

from tests.integration.test_cluster import vms_named
from vhpc_toolkit.vsphere.inventory import read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

HOST = "vhpc-esx-07.hpc.vmware.com"
PF = "0000:af:00.0"


@pytest.fixture(scope="module")
def two_nic_template(session):
    """A template without a snapshot, with adapters in this key order: VMXNET3 on vHPC-PG-VMNetwork, an
    SR-IOV adapter, VMXNET3 on VM Network. The guest sees (PCI slot order) both VMXNET3s, then SR-IOV:
    an order by device key would put the second VMXNET3's settings on the SR-IOV adapter."""
    inv = read_inventory(session, {"VirtualMachine": ["environmentBrowser"], "HostSystem": [],
                                    "Datacenter": ["vmFolder"]})
    source = inv.find("VirtualMachine", "vhpc_clone")
    target = source.get("environmentBrowser").QueryConfigTarget(host=inv.find("HostSystem", HOST).ref)
    info = next(p for p in target.sriov if p.pciDevice.id == PF)
    pf = vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(
        id=info.pciDevice.id, deviceId=format(info.pciDevice.deviceId & 0xFFFF, "x"), systemId=info.systemId,
        vendorId=info.pciDevice.vendorId, deviceName=info.pciDevice.deviceName)
    sriov = vim.vm.device.VirtualSriovEthernetCard(
        key=-1, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="vHPC-PG-VMNetwork"),
        sriovBacking=vim.vm.device.VirtualSriovEthernetCard.SriovBackingInfo(physicalFunctionBacking=pf))
    nic = vim.vm.device.VirtualVmxnet3(key=-2, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(
        deviceName="VM Network"))
    name = f"tpl2-{uuid.uuid4().hex[:6]}"
    spec = vim.vm.CloneSpec(template=True, location=vim.vm.RelocateSpec(), config=vim.vm.ConfigSpec(
        deviceChange=[vim.vm.device.VirtualDeviceSpec(operation="add", device=d) for d in (sriov, nic)]))
    tpl = wait_for_task(session, source.ref.CloneVM_Task(
        folder=inv.find("Datacenter", "HPC_Datacenter").get("vmFolder"), name=name, spec=spec))
    keys = [type(d).__name__ for d in sorted(tpl.config.hardware.device, key=lambda d: d.key)
            if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    assert keys == ["vim.vm.device.VirtualVmxnet3", "vim.vm.device.VirtualSriovEthernetCard",
                    "vim.vm.device.VirtualVmxnet3"]
    yield name
    wait_for_task(session, tpl.Destroy_Task())


def props(session, name, *paths):
    inv = read_inventory(session, {"VirtualMachine": list(paths)})
    found = [o for o in inv.of_type("VirtualMachine") if o.name == name]
    return found[0] if found else None


@pytest.fixture
def names(cli):
    made = []

    def new(n=1):
        batch = [f"lc-{uuid.uuid4().hex[:8]}" for _ in range(n)]
        made.extend(batch)
        return batch

    yield new
    for name in made:
        cli("destroy", "--vm", name)


# --- linked clones ------------------------------------------------------------------------------

def test_linked_clone_starts_from_the_templates_snapshot(cli, lab, session, names):
    a, b = names(2)
    before = props(session, "vhpc_clone", "snapshot").get("snapshot")
    lab.reset_calls()
    code, out, err = cli("--output", "json", "clone", "--template", "vhpc_clone", "--vm", a, "--linked")
    assert code == 0, err
    assert "CreateSnapshot_Task" not in lab.calls()["methods"]
    result = json.loads(out)["results"][0]
    assert result["status"] == "changed" and "from snapshot linked-clone-base of vhpc_clone" in result["detail"]
    after = props(session, "vhpc_clone", "snapshot").get("snapshot")
    assert after.currentSnapshot == before.currentSnapshot and len(after.rootSnapshotList) == 1
    # A VM that is not a template is snapshotted first, once; the plan says so.
    code, out, err = cli("--output", "json", "clone", "--template", a, "--vm", b, "--linked")
    assert code == 0, err
    assert "a snapshot vhpc-linked-clone-base of VM " + a + " is taken first" in json.loads(out)["results"][0]["detail"]
    snap = props(session, a, "snapshot").get("snapshot")
    assert [s.name for s in snap.rootSnapshotList] == ["vhpc-linked-clone-base"]


def test_linked_clone_of_a_template_without_snapshot_is_refused(cli, session, names, two_nic_template, tmp_path):
    a, b = names(2)
    code, _, err = cli("clone", "--template", two_nic_template, "--vm", a, "--linked")
    assert code == 2 and "Traceback" not in err
    assert f"template {two_nic_template} has no snapshot" in err and "govc snapshot.create" in err
    assert "nothing was cloned" in err and props(session, a, "name") is None
    # A cluster file with linked: yes: the file and line, nothing created.
    path = tmp_path / "linked.conf"
    path.write_text(f"[_VMS_]\n{a}: template: {two_nic_template} linked: yes power: off\n"
                    f"{b}: template: vhpc_clone linked: yes power: off\n")
    code, _, err = cli("cluster", "--create", "--file", path)
    assert code == 2 and f"{path}:2: linked: yes: template {two_nic_template} has no snapshot" in err
    assert props(session, a, "name") is None and props(session, b, "name") is None


def test_cluster_linked_clone_plan_names_the_snapshot(cli, session, names, tmp_path):
    a, = names(1)
    path = tmp_path / "linked.conf"
    path.write_text(f"[_VMS_]\n{a}: template: vhpc_clone linked: yes power: off\n")
    code, out, err = cli("cluster", "--create", "--file", path)
    assert code == 0, err
    assert "from snapshot linked-clone-base of vhpc_clone" in out
    assert props(session, a, "name") is not None


# --- customization in the guest's adapter order ------------------------------------------------

def guest_ips(vm: dict) -> dict[str, list[str]]:
    """Adapter kind and port group -> the guest's addresses on it (by MAC, from guest.net)."""
    kinds = {d.macAddress: ("sriov" if isinstance(d, vim.vm.device.VirtualSriovEthernetCard) else "vmxnet3")
             for d in vm["config.hardware.device"] if isinstance(d, vim.vm.device.VirtualEthernetCard)}
    return {f"{kinds[n.macAddress]} {n.network}": list(n.ipAddress or []) for n in vm["guest.net"]}


def test_static_ip_lands_on_the_adapter_its_port_group_names(cli, session, tmp_path, two_nic_template):
    pfx = f"nic{uuid.uuid4().hex[:6]}"
    path = tmp_path / "order.conf"
    path.write_text(f"""
[BASE]
template: {two_nic_template}
cpu: 2
memory: 4
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
host: {HOST}
is_dhcp: false
netmask: 255.255.255.0
gateway: 172.1.40.1
memory_reservation: yes

[FIRST]
port_group: vHPC-PG-VMNetwork

[SECOND]
port_group: VM Network

[_VMS_]
{pfx}-a: BASE FIRST ip: 172.1.40.11
{pfx}-b: BASE SECOND ip: 172.1.40.12
""")
    try:
        code, out, err = cli("--output", "json", "cluster", "--create", "--file", path)
        assert code == 0, err + out
        assert {v["name"]: v["status"] for v in json.loads(out)["vms"]} == {f"{pfx}-a": "created",
                                                                            f"{pfx}-b": "created"}
        inv = read_inventory(session, {"VirtualMachine": ["config.hardware.device", "guest.net"]})
        vms = {o.name: o.props for o in inv.of_type("VirtualMachine") if o.name.startswith(pfx)}
        a, b = guest_ips(vms[f"{pfx}-a"]), guest_ips(vms[f"{pfx}-b"])
        assert a["vmxnet3 vHPC-PG-VMNetwork"] == ["172.1.40.11"]
        assert "172.1.40.11" not in a["vmxnet3 VM Network"] + a["sriov vHPC-PG-VMNetwork"]
        assert b["vmxnet3 VM Network"] == ["172.1.40.12"]
        assert "172.1.40.12" not in b["vmxnet3 vHPC-PG-VMNetwork"] + b["sriov vHPC-PG-VMNetwork"]
    finally:
        code, _, err = cli("cluster", "--destroy", "--file", path)
        assert code == 0, err
    assert vms_named(session, pfx) == {}


def test_network_cfg_maps_by_the_guests_order_with_mac_addresses(cli, session, names, two_nic_template):
    vm, = names(1)
    assert cli("clone", "--template", two_nic_template, "--vm", vm, "--host", HOST)[0] == 0
    assert cli("cpumem", "--vm", vm, "--memory_reservation", "yes")[0] == 0   # SR-IOV: all memory reserved
    code, _, err = cli("network_cfg", "--vm", vm, "--port_group", "VM Network", "--ip", "172.1.41.5",
                       "--netmask", "255.255.255.0", "--gateway", "172.1.41.1")
    assert code == 0, err
    assert cli("power", "--vm", vm, "--on")[0] == 0
    from vhpc_toolkit.vsphere.watch import Watch
    ref = props(session, vm, "name").ref
    with Watch(session) as watch:
        watch.listed([ref], ["guest.net"])
        watch.until(lambda: any("172.1.41.5" in (n.ipAddress or [])
                                for n in watch.values.get(ref._moId, {}).get("guest.net") or []), 60)
    ips = guest_ips(props(session, vm, "config.hardware.device", "guest.net").props)
    assert ips["vmxnet3 VM Network"] == ["172.1.41.5"]
    assert "172.1.41.5" not in ips["vmxnet3 vHPC-PG-VMNetwork"] + ips["sriov vHPC-PG-VMNetwork"]
    assert cli("power", "--vm", vm, "--off")[0] == 0
