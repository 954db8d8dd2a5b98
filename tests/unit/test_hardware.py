"""Virtual hardware versions: what an ESXi release runs, when a clone is upgraded, the key's values, and
what a clone spec holds back for the upgrade."""
from __future__ import annotations

import pytest
from pyVmomi import vim

from vhpc_toolkit.cluster.planning.hardware import hold_back
from vhpc_toolkit.clusterfile.values import BadValue, to_hardware_version
from vhpc_toolkit.specs.hardware import esxi_max_hardware, hw_version, needs_upgrade
from vhpc_toolkit.specs.devices.passthrough import dynamic_passthrough_device


@pytest.mark.parametrize("esxi,hw", [("6.7.0", 14), ("6.7.3", 15), ("7.0.0", 17), ("7.0.3", 19), ("8.0.2", 21),
                                     ("5.1.0", 0), (None, 0)])
def test_what_an_esxi_release_runs(esxi, hw):
    assert esxi_max_hardware(esxi) == hw


def test_a_clone_is_upgraded_only_when_its_template_is_older():
    assert needs_upgrade("vmx-13", 17) == 17
    assert needs_upgrade("vmx-17", 17) is None and needs_upgrade("vmx-19", 17) is None
    assert needs_upgrade("vmx-13", None) is None and needs_upgrade(None, 17) is None
    assert hw_version("vmx-13") == 13 and hw_version("weird") == 0


@pytest.mark.parametrize("raw,value", [("17", 17), ("vmx-17", 17), ("VMX-19", 19)])
def test_hardware_version_values(raw, value):
    assert to_hardware_version(raw) == value


@pytest.mark.parametrize("raw", ["3", "100", "vmx-", "seventeen"])
def test_bad_hardware_versions(raw):
    with pytest.raises(BadValue):
        to_hardware_version(raw)


def test_the_clone_spec_holds_back_dynamic_devices_and_its_power_on():
    nic = vim.vm.device.VirtualDeviceSpec(operation="edit", device=vim.vm.device.VirtualVmxnet3(key=4000))
    dyn = dynamic_passthrough_device(0x10de, 0x1db4)
    spec = vim.vm.CloneSpec(powerOn=True, config=vim.vm.ConfigSpec(deviceChange=[nic, dyn]))
    assert hold_back(spec) == [dyn]
    assert list(spec.config.deviceChange) == [nic] and spec.powerOn is False
