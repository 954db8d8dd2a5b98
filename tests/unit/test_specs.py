"""Spec builders: what they set, and only when it differs."""
from __future__ import annotations

import pytest
from pyVmomi import vim

from vhpc_toolkit.specs.compute import ComputeRequest, ResizeRefused, apply_compute, memory_mb
from vhpc_toolkit.specs.customization import (BadNetworkValue, GuestNetwork, customization_spec,
                                              default_hostname)
from vhpc_toolkit.specs.latency import apply_latency
from vhpc_toolkit.specs.devices.nic import PortGroupRef, add_nic


def vm_state(**over):
    state = {
        "config.hardware.numCPU": 2, "config.hardware.memoryMB": 4096,
        "config.cpuAllocation": vim.ResourceAllocationInfo(
            reservation=0, shares=vim.SharesInfo(level="normal", shares=2000)),
        "config.memoryAllocation": vim.ResourceAllocationInfo(
            reservation=0, shares=vim.SharesInfo(level="normal", shares=40960)),
        "config.memoryReservationLockedToMax": False, "runtime.powerState": "poweredOff",
        "config.cpuHotAddEnabled": False, "config.memoryHotAddEnabled": False,
    }
    state.update(over)
    return state


def test_cpu_memory_set_only_when_different():
    spec = vim.vm.ConfigSpec()
    changes = apply_compute(spec, vm_state(), ComputeRequest(cpu=2, memory_gb=4), host_mhz=2000)
    assert changes == [] and spec.numCPUs is None and spec.memoryMB is None
    changes = apply_compute(spec, vm_state(), ComputeRequest(cpu=8, memory_gb=16), host_mhz=2000)
    assert (spec.numCPUs, spec.memoryMB) == (8, 16384)
    assert [c.field for c in changes] == ["cpu", "memory_mb"]


@pytest.mark.parametrize("gb,mb", [(1, 1024), (0.5, 512), (1.3, 1328), (100, 102400)])
def test_memory_rounds_to_4mb(gb, mb):
    assert memory_mb(gb) == mb and mb % 4 == 0


def test_full_reservations():
    spec = vim.vm.ConfigSpec()
    apply_compute(spec, vm_state(), ComputeRequest(cpu=4, cpu_reservation=True, memory_reservation=True),
                  host_mhz=2600)
    assert spec.cpuAllocation.reservation == 4 * 2600
    assert spec.memoryAllocation.reservation == 4096
    assert spec.memoryReservationLockedToMax is True


def test_reservation_off_clears_lock():
    state = vm_state(**{"config.memoryAllocation": vim.ResourceAllocationInfo(reservation=4096),
                        "config.memoryReservationLockedToMax": True})
    spec = vim.vm.ConfigSpec()
    apply_compute(spec, state, ComputeRequest(memory_reservation=False), host_mhz=2000)
    assert spec.memoryAllocation.reservation == 0 and spec.memoryReservationLockedToMax is False


def test_locked_reservation_follows_memory_size():
    state = vm_state(**{"config.memoryAllocation": vim.ResourceAllocationInfo(reservation=4096),
                        "config.memoryReservationLockedToMax": True})
    spec = vim.vm.ConfigSpec()
    apply_compute(spec, state, ComputeRequest(memory_gb=8), host_mhz=2000)
    assert spec.memoryAllocation.reservation == 8192


def test_shares_custom():
    spec = vim.vm.ConfigSpec()
    changes = apply_compute(spec, vm_state(), ComputeRequest(cpu_shares=4000, memory_shares=2000), 2000)
    assert spec.cpuAllocation.shares.level == "custom" and spec.cpuAllocation.shares.shares == 4000
    assert spec.memoryAllocation.shares.shares == 2000
    assert {c.field for c in changes} == {"cpu_shares", "memory_shares"}


def test_powered_on_resize_refused_without_hot_add():
    with pytest.raises(ResizeRefused, match="hot-add"):
        apply_compute(vim.vm.ConfigSpec(), vm_state(**{"runtime.powerState": "poweredOn"}),
                      ComputeRequest(cpu=4), 2000)
    spec = vim.vm.ConfigSpec()
    apply_compute(spec, vm_state(**{"runtime.powerState": "poweredOn", "config.cpuHotAddEnabled": True}),
                  ComputeRequest(cpu=4), 2000)
    assert spec.numCPUs == 4


def test_latency_high_brings_reservations_in_same_spec():
    spec = vim.vm.ConfigSpec()
    changes = apply_latency(spec, vm_state(), "high", host_mhz=2000)
    assert spec.latencySensitivity.level == "high"
    assert spec.cpuAllocation.reservation == 4000 and spec.memoryReservationLockedToMax is True
    assert "latency" in [c.field for c in changes]


def test_latency_normal_when_already_normal_is_no_change():
    spec = vim.vm.ConfigSpec()
    assert apply_latency(spec, vm_state(), "normal", 2000) == []
    assert spec.latencySensitivity is None


def test_nic_on_standard_and_distributed_port_groups():
    std = add_nic(PortGroupRef(name="vHPC-PG-VMNetwork"))
    assert std.operation == "add" and isinstance(std.device, vim.vm.device.VirtualVmxnet3)
    assert std.device.backing.deviceName == "vHPC-PG-VMNetwork" and std.device.key < 0
    dist = add_nic(PortGroupRef(name="pg", dvs_uuid="50 11", portgroup_key="dvportgroup-9"))
    assert dist.device.backing.port.switchUuid == "50 11"
    assert dist.device.backing.port.portgroupKey == "dvportgroup-9"
    assert std.device.key != dist.device.key


def test_static_customization():
    net = GuestNetwork(hostname="node1", ip="172.1.10.1", netmask="255.255.255.0", gateway="172.1.101.1",
                       dns=("172.1.110.1",), domain="hpc.vmware.com")
    spec = customization_spec(net, adapter_count=2, adapter_index=1)
    assert spec.identity.hostName.name == "node1" and spec.identity.domain == "hpc.vmware.com"
    assert isinstance(spec.nicSettingMap[0].adapter.ip, vim.vm.customization.DhcpIpGenerator)
    fixed = spec.nicSettingMap[1].adapter
    assert fixed.ip.ipAddress == "172.1.10.1" and fixed.subnetMask == "255.255.255.0"
    assert fixed.gateway == ["172.1.101.1"] and spec.globalIPSettings.dnsServerList == ["172.1.110.1"]


@pytest.mark.parametrize("net,msg", [
    (GuestNetwork(hostname="h", ip="172.1.10.300", netmask="255.255.255.0"), "ip '172.1.10.300'"),
    (GuestNetwork(hostname="h", ip="10.0.0.1", netmask="255.0.255.0"), "netmask"),
    (GuestNetwork(hostname="h", ip="10.0.0.1"), "needs a netmask"),
    (GuestNetwork(hostname="h"), "needs an ip"),
    (GuestNetwork(hostname="h", is_dhcp=True, dns=("8.8.8",)), "dns server"),
    (GuestNetwork(hostname="bad_name", is_dhcp=True), "host name"),
])
def test_bad_network_values_refused(net, msg):
    with pytest.raises(BadNetworkValue, match=msg):
        net.validated()


def test_default_hostname_from_vm_name():
    assert default_hostname("vhpc_vm01") == "vhpc-vm01"
    assert default_hostname("GPU-VM1") == "GPU-VM1"
