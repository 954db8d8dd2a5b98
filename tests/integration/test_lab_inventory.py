"""The lab's inventory and HPC hardware, read with pyVmomi directly (independent of the toolkit)."""
from __future__ import annotations

import pytest
from pyVmomi import vim

from vhpc_toolkit.vsphere.inventory import read_inventory

HOSTS = [f"vhpc-esx-0{i}.hpc.vmware.com" for i in range(1, 9)]


@pytest.fixture(scope="module")
def inv(session):
    return read_inventory(session, {
        "ClusterComputeResource": [], "Datastore": [], "Network": [],
        "HostSystem": ["hardware.pciDevice", "config.pciPassthruInfo", "config.sharedPassthruGpuTypes",
                       "config.network.pnic", "config.network.rdmaDevice", "config.network.vswitch",
                       "hardware.systemInfo.uuid"],
        "VirtualMachine": ["config.template", "config.firmware", "config.hardware.device", "environmentBrowser",
                           "runtime.host"],
    })


def test_names_of_the_original_examples_exist(inv):
    assert [o.name for o in inv.of_type("Datacenter")] == ["HPC_Datacenter"]
    assert {"COMPUTE_GPU_Cluster", "HPC_Cluster"} <= {o.name for o in inv.of_type("ClusterComputeResource")}
    assert set(HOSTS) <= {o.name for o in inv.of_type("HostSystem")}
    assert "COMPUTE01_vsanDatastore" in {o.name for o in inv.of_type("Datastore")}
    assert "vHPC-PG-VMNetwork" in {o.name for o in inv.of_type("Network")}


def test_template_is_efi_with_one_vmxnet3_on_the_vm_network(inv):
    tpl = inv.find("VirtualMachine", "vhpc_clone")
    assert tpl.get("config.firmware") == "efi"
    nics = [d for d in tpl.get("config.hardware.device") if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    assert len(nics) == 1 and isinstance(nics[0], vim.vm.device.VirtualVmxnet3)
    assert nics[0].backing.deviceName == "vHPC-PG-VMNetwork"


@pytest.mark.parametrize("host_name", [HOSTS[0], HOSTS[7]])
def test_host_pci_devices_and_passthrough(inv, host_name):
    host = inv.find("HostSystem", host_name)
    devices = {d.id: d for d in host.get("hardware.pciDevice")}
    for gpu in ("0000:3b:00.0", "0000:d8:00.0"):
        assert devices[gpu].vendorId == 0x10de and devices[gpu].classId >> 8 == 0x03
    assert devices["0000:af:00.0"].vendorId == 0x15b3
    passthru = {p.id: p for p in host.get("config.pciPassthruInfo")}
    assert passthru["0000:3b:00.0"].passthruEnabled and passthru["0000:d8:00.0"].passthruEnabled
    pf = passthru["0000:af:00.0"]
    assert isinstance(pf, vim.host.SriovInfo) and pf.sriovEnabled and pf.numVirtualFunction == 8
    pnics = {p.device: p for p in host.get("config.network.pnic")}
    assert set(pnics) >= {f"vmnic{i}" for i in range(6)}
    assert pnics["vmnic4"].pci == "0000:af:00.0"


def test_network_objects_link_one_another_by_key(inv):
    """ESXi names a physical NIC by its key wherever another object links it (pyVmomi's type information
    marks HostRdmaDevicePnicBacking.pairedUplink and HostVirtualSwitch.pnic as vim.host.PhysicalNic links)."""
    host = inv.find("HostSystem", HOSTS[2])
    pnics = {p.key: p for p in host.get("config.network.pnic")}
    rdma, = host.get("config.network.rdmaDevice")
    assert rdma.backing.pairedUplink == "key-vim.host.PhysicalNic-vmnic5"
    assert pnics[rdma.backing.pairedUplink].device == "vmnic5"
    assert pnics[rdma.backing.pairedUplink].rdmaDevice == rdma.key == "key-vim.host.RdmaDevice-vmrdma0"
    assert all(k in pnics for vs in host.get("config.network.vswitch") for k in vs.pnic or [])


def test_vgpu_profiles(inv):
    """NVIDIA vGPU 14.0's types of each board in shared direct mode: the 16 GB V100 and P100 offer Q, C, A
    and B types of their sizes (no grid_v100-32q: a 32 GB V100 PCIe is board V100D, grid_v100d-*)."""
    types = set(inv.find("HostSystem", HOSTS[4]).get("config.sharedPassthruGpuTypes"))
    for board in ("p100", "v100"):
        assert {f"grid_{board}-{n}q" for n in (1, 2, 4, 8, 16)} | {f"grid_{board}-{n}c" for n in (4, 8, 16)} | \
            {f"grid_{board}-{n}a" for n in (1, 2, 4, 8, 16)} | {f"grid_{board}-{n}b" for n in (1, 2)} == \
            {t for t in types if t.startswith(f"grid_{board}-")}
    assert "grid_v100-32q" not in types


def test_config_target_lists_passthrough_sriov_and_vgpu(inv):
    tpl = inv.find("VirtualMachine", "vhpc_clone")
    host = inv.find("HostSystem", HOSTS[4])
    target = tpl.get("environmentBrowser").QueryConfigTarget(host=host.ref)
    pci = {p.pciDevice.id: p for p in target.pciPassthrough}
    assert {"0000:3b:00.0", "0000:d8:00.0"} <= set(pci)
    assert pci["0000:3b:00.0"].systemId == host.get("hardware.systemInfo.uuid")
    assert [s.pciDevice.id for s in target.sriov] == ["0000:af:00.0"]
    assert target.sriov[0].pnic == "vmnic4"
    assert "grid_v100-8q" in {t.vgpu for t in target.sharedGpuPassthroughTypes}


def test_call_counter_counts_and_resets(lab, session):
    lab.reset_calls()
    session.content.rootFolder.childEntity  # one property read: one SOAP call
    calls = lab.calls()
    assert calls["total"] >= 1 and sum(calls["methods"].values()) == calls["total"]
    lab.reset_calls()
    assert lab.calls()["total"] == 0
