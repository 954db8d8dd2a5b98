"""Device spec builders: passthrough, MMIO, vGPU, SR-IOV and PVRDMA backings."""
from __future__ import annotations

import pytest
from pyVmomi import vim

from vhpc_toolkit.specs.devices.nic import PortGroupRef
from vhpc_toolkit.specs.devices.passthrough import (MMIO_SIZE_GB, USE_64BIT_MMIO, check_mmio_size, device_id_hex,
                                            device_mmio_gb, mmio_extra_config, normalize_id, passthrough_device,
                                            passthrough_id, required_mmio_gb)
from vhpc_toolkit.specs.devices.pvrdma import pvrdma_adapter
from vhpc_toolkit.specs.devices.sriov import sriov_adapter, sriov_pf_id
from vhpc_toolkit.specs.devices.vgpu import vgpu_device, vgpu_profile

V100 = "GV100GL [Tesla V100 PCIe 32GB]"


def gpu_info(pci_id="0000:3b:00.0", device_id=0x1db4, name=V100):
    # The API carries 16-bit ids as signed shorts: 0x1db4 fits, 0x8086-style ids come negative.
    signed = device_id - 0x10000 if device_id > 0x7FFF else device_id
    return vim.vm.PciPassthroughInfo(
        name=name, systemId="sys-uuid-1",
        pciDevice=vim.host.PciDevice(id=pci_id, deviceId=signed, vendorId=0x10de, deviceName=name,
                                     vendorName="NVIDIA Corporation", classId=0x0302, subVendorId=0x10de,
                                     subDeviceId=0x1214, bus=0x3b, slot=0, function=0))


def pf_info():
    return vim.vm.SriovInfo(
        name="MT27700 Family [ConnectX-4]", systemId="sys-uuid-1", virtualFunction=False, pnic="vmnic4",
        pciDevice=vim.host.PciDevice(id="0000:af:00.0", deviceId=0x1013, vendorId=0x15b3,
                                     deviceName="MT27700 Family [ConnectX-4]", vendorName="Mellanox Technologies",
                                     classId=0x0200, subVendorId=0x15b3, subDeviceId=8, bus=0xaf, slot=0,
                                     function=0))


def test_passthrough_device_backing_fields():
    change = passthrough_device(gpu_info())
    assert change.operation == "add"
    dev = change.device
    assert isinstance(dev, vim.vm.device.VirtualPCIPassthrough) and dev.key < 0
    b = dev.backing
    assert isinstance(b, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo)
    assert (b.id, b.deviceId, b.systemId, b.vendorId, b.deviceName) == (
        "0000:3b:00.0", "1db4", "sys-uuid-1", 0x10de, V100)
    assert passthrough_id(dev) == "0000:3b:00.0"


def test_each_new_device_gets_its_own_negative_key():
    a, b = passthrough_device(gpu_info()), passthrough_device(gpu_info("0000:d8:00.0"))
    assert a.device.key < 0 and b.device.key < 0 and a.device.key != b.device.key


@pytest.mark.parametrize("device_id,text", [(0x1db4, "1db4"), (0x0001, "1"), (0xFFFF, "ffff"),
                                            (0x8086 - 0x10000, "8086"), (-1, "ffff")])
def test_device_id_is_hex_of_the_16_bit_id(device_id, text):
    assert device_id_hex(device_id) == text


def test_high_device_id_from_signed_short_keeps_16_bits():
    assert passthrough_device(gpu_info(device_id=0xABCD)).device.backing.deviceId == "abcd"


def test_ids_compare_case_insensitively():
    assert normalize_id("0000:3B:00.0") == normalize_id(" 0000:3b:00.0") == "0000:3b:00.0"
    assert passthrough_id(passthrough_device(gpu_info("0000:3B:00.0")).device) == "0000:3b:00.0"


def test_mmio_extra_config_values():
    opts = {o.key: o.value for o in mmio_extra_config(128)}
    assert opts == {USE_64BIT_MMIO: "TRUE", MMIO_SIZE_GB: "128"}
    assert all(isinstance(o, vim.option.OptionValue) for o in mmio_extra_config(128))


@pytest.mark.parametrize("size", [0, -64, 3, 100, 192, 255])
def test_mmio_size_must_be_a_power_of_two(size):
    with pytest.raises(ValueError, match="power of two"):
        check_mmio_size(size, [])
    with pytest.raises(ValueError, match="power of two"):
        mmio_extra_config(size)


def test_mmio_rule_twice_the_memory_rounded_up_per_device_and_in_total():
    assert device_mmio_gb(V100) == 64
    assert device_mmio_gb("Tesla V100 PCIe 16GB") == 32
    assert device_mmio_gb("A100 40GB") == 128          # 80 rounded up
    assert device_mmio_gb("MT27700 Family [ConnectX-4]") == 0  # no memory stated: no estimate
    assert required_mmio_gb([V100, V100]) == 128
    assert required_mmio_gb([V100] * 3) == 256          # 192 rounded up
    assert required_mmio_gb([]) == 0


def test_mmio_size_too_small_for_the_devices_is_refused():
    check_mmio_size(64, [gpu_info()])                    # one V100 32GB fits in 64
    check_mmio_size(256, [gpu_info(), gpu_info("0000:d8:00.0")])
    with pytest.raises(ValueError, match="at least 128 GB"):
        check_mmio_size(64, [gpu_info(), gpu_info("0000:d8:00.0")])
    with pytest.raises(ValueError, match="at least 64 GB"):
        check_mmio_size(32, [V100])


def test_vgpu_backing_names_the_profile():
    change = vgpu_device("grid_v100-8q")
    dev = change.device
    assert change.operation == "add" and isinstance(dev, vim.vm.device.VirtualPCIPassthrough)
    assert isinstance(dev.backing, vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo)
    assert dev.backing.vgpu == "grid_v100-8q" and vgpu_profile(dev) == "grid_v100-8q"
    assert passthrough_id(dev) is None and vgpu_profile(passthrough_device(gpu_info()).device) is None
    with pytest.raises(ValueError):
        vgpu_device("  ")


def test_sriov_adapter_backs_onto_the_pf_and_the_port_group():
    pg = PortGroupRef(name="sriov-pg", network=vim.Network("network-7"))
    dev = sriov_adapter(pf_info(), pg).device
    assert isinstance(dev, vim.vm.device.VirtualSriovEthernetCard) and dev.key < 0
    pf = dev.sriovBacking.physicalFunctionBacking
    assert isinstance(pf, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo)
    assert (pf.id, pf.deviceId, pf.systemId, pf.vendorId) == ("0000:af:00.0", "1013", "sys-uuid-1", 0x15b3)
    assert isinstance(dev.backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo)
    assert dev.backing.deviceName == "sriov-pg" and dev.allowGuestOSMtuChange is True
    assert sriov_pf_id(dev) == "0000:af:00.0"


def test_sriov_adapter_on_a_distributed_port_group():
    pg = PortGroupRef(name="dpg", dvs_uuid="50 11 22", portgroup_key="dvportgroup-9")
    dev = sriov_adapter(pf_info(), pg).device
    assert isinstance(dev.backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo)
    assert (dev.backing.port.switchUuid, dev.backing.port.portgroupKey) == ("50 11 22", "dvportgroup-9")


def test_pvrdma_needs_a_distributed_port_group():
    dev = pvrdma_adapter(PortGroupRef(name="dpg", dvs_uuid="50 11 22", portgroup_key="dvportgroup-9")).device
    assert isinstance(dev, vim.vm.device.VirtualVmxnet3Vrdma)
    assert isinstance(dev.backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo)
    assert (dev.backing.port.switchUuid, dev.backing.port.portgroupKey) == ("50 11 22", "dvportgroup-9")
    with pytest.raises(ValueError, match="distributed port group"):
        pvrdma_adapter(PortGroupRef(name="vHPC-PG-VMNetwork", network=vim.Network("network-7")))


def test_a_large_bar_device_needs_efi():
    from vhpc_toolkit.specs.devices.passthrough import large_bar_problem

    problem = large_bar_problem("vm1", "bios", [V100])
    assert "vm1 boots with BIOS firmware" in problem and "64 GB 64-bit MMIO window" in problem
    assert large_bar_problem("vm1", "efi", [V100]) is None
    assert large_bar_problem("vm1", None, ["GP100GL [Tesla P100 PCIe 16GB]"]) is not None   # 32 GB window
    assert large_bar_problem("vm1", "bios", ["Some FPGA"]) is None and large_bar_problem("vm1", "bios", []) is None
