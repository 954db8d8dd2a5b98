"""`network` and `network_cfg` on the lab: adapters read back, guest IP after customization and power-on."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from pyVmomi import vim

from vhpc_toolkit.vsphere.inventory import read_inventory


@pytest.fixture
def vm_name(cli):
    name = f"n-{uuid.uuid4().hex[:8]}"
    assert cli("clone", "--template", "vhpc_clone", "--vm", name)[0] == 0
    yield name
    cli("destroy", "--vm", name)


def read_vm(session, name, *paths):
    inv = read_inventory(session, {"VirtualMachine": list(paths)})
    return inv.find("VirtualMachine", name)


def nics(session, name):
    vm = read_vm(session, name, "config.hardware.device")
    return [d for d in vm.get("config.hardware.device") if isinstance(d, vim.vm.device.VirtualEthernetCard)]


def test_add_and_remove_adapter(cli, session, vm_name):
    code, out, err = cli("--output", "json", "network", "--vm", vm_name, "--add", "--port_group", "VM Network")
    assert code == 0, err
    cards = nics(session, vm_name)
    assert sorted(c.backing.deviceName for c in cards) == ["VM Network", "vHPC-PG-VMNetwork"]
    assert all(isinstance(c, vim.vm.device.VirtualVmxnet3) for c in cards)
    code, out, _ = cli("--output", "json", "network", "--vm", vm_name, "--add", "--port_group", "VM Network")
    assert json.loads(out)["results"][0]["status"] == "unchanged" and len(nics(session, vm_name)) == 2
    assert cli("network", "--vm", vm_name, "--remove", "--port_group", "VM Network")[0] == 0
    assert [c.backing.deviceName for c in nics(session, vm_name)] == ["vHPC-PG-VMNetwork"]


def test_missing_port_group_is_refused(cli, session, vm_name):
    code, _, err = cli("network", "--vm", vm_name, "--add", "--port_group", "vHPC-PG-VMNetwrk")
    assert code == 2 and "port group 'vHPC-PG-VMNetwrk' not found" in err and "vHPC-PG-VMNetwork" in err
    assert len(nics(session, vm_name)) == 1


def wait_ip(session, name, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        vm = read_vm(session, name, "guest.ipAddress", "guest.hostName")
        if vm.get("guest.ipAddress"):
            return vm
        time.sleep(0.2)
    raise AssertionError(f"{name} got no IP in {timeout}s")


def test_static_ip_customization_then_power_on(cli, session, vm_name):
    code, out, err = cli("--output", "json", "network_cfg", "--vm", vm_name, "--port_group", "vHPC-PG-VMNetwork",
                         "--ip", "172.1.10.77", "--netmask", "255.255.255.0", "--gateway", "172.1.101.1",
                         "--dns", "172.1.110.1", "--domain", "hpc.vmware.com", "--guest_hostname", "node77",
                         "--power-on")
    assert code == 0, err
    row = json.loads(out)["results"][0]
    assert row["status"] == "changed" and row["ip"] == "172.1.10.77" and "customized" in row["detail"]
    vm = read_vm(session, vm_name, "guest.ipAddress", "guest.hostName", "runtime.powerState")
    assert (vm.get("guest.ipAddress"), vm.get("guest.hostName")) == ("172.1.10.77", "node77")


def test_without_power_on_the_customization_waits_for_the_next_boot(cli, session, vm_name):
    code, out, err = cli("--output", "json", "network_cfg", "--vm", vm_name, "--port_group", "vHPC-PG-VMNetwork",
                         "--ip", "172.1.10.78", "--netmask", "255.255.255.0")
    assert code == 0, err
    assert "next power-on" in json.loads(out)["results"][0]["detail"]
    assert read_vm(session, vm_name, "runtime.powerState").get("runtime.powerState") == "poweredOff"


@pytest.fixture
def failing_vm(cli):
    from tests.plugins.lab import CUSTOMIZATION_FAILS

    name = f"n-{CUSTOMIZATION_FAILS}-{uuid.uuid4().hex[:6]}"
    assert cli("clone", "--template", "vhpc_clone", "--vm", name)[0] == 0
    yield name
    cli("destroy", "--vm", name)


def test_a_failed_customization_fails_the_vm(cli, session, failing_vm):
    code, out, err = cli("--output", "json", "network_cfg", "--vm", failing_vm, "--port_group", "vHPC-PG-VMNetwork",
                         "--ip", "172.1.10.79", "--netmask", "255.255.255.0", "--power-on")
    assert code == 1
    row = json.loads(out)["results"][0]
    assert row["status"] == "failed" and "CustomizationNetworkSetupFailed" in row["detail"] and row["ip"] is None
    assert read_vm(session, failing_vm, "guest.ipAddress").get("guest.ipAddress").startswith("127.100.")


def test_dhcp_customization(cli, session, vm_name):
    assert cli("network_cfg", "--vm", vm_name, "--port_group", "vHPC-PG-VMNetwork", "--is_dhcp")[0] == 0
    assert cli("power", "--vm", vm_name, "--on")[0] == 0
    assert wait_ip(session, vm_name).get("guest.ipAddress")


@pytest.mark.parametrize("flags,msg", [
    (["--ip", "172.1.10.300", "--netmask", "255.255.255.0"], "is not an IPv4 address"),
    (["--ip", "172.1.10.3", "--netmask", "255.0.255.0"], "netmask"),
    (["--ip", "172.1.10.3", "--netmask", "255.255.255.0", "--gateway", "gw"], "gateway 'gw'"),
])
def test_bad_ip_values_refused_before_contacting_vcenter(run_cli, tmp_path, flags, msg):
    # No vCenter settings exist here: validation must come first.
    code, _, err = run_cli("--vcenter-conf", tmp_path / "absent.conf", "network_cfg", "--vm", "x",
                           "--port_group", "pg", *flags)
    assert code == 2 and msg in err and len(err.strip().splitlines()) == 1


def test_customization_needs_powered_off_vm(cli, vm_name):
    assert cli("power", "--vm", vm_name, "--on")[0] == 0
    code, _, err = cli("network_cfg", "--vm", vm_name, "--port_group", "vHPC-PG-VMNetwork", "--is_dhcp")
    assert code == 2 and "powered on" in err


def test_adapter_on_port_group_required(cli, vm_name):
    code, _, err = cli("network_cfg", "--vm", vm_name, "--port_group", "VM Network", "--is_dhcp")
    assert code == 2 and "has no adapter on port group VM Network" in err


def test_add_on_a_distributed_port_group_needs_the_vms_host_in_its_switch(cli, session, vm_name):
    # vm_name is on the first host of the first cluster, vhpc-esx-02; the switch has vhpc-esx-03 only.
    name = f"nd-{uuid.uuid4().hex[:6]}"
    assert cli("dvs", "--create", "--name", name, "--host", "vhpc-esx-03.hpc.vmware.com", "--pnic", "vmnic2",
               "--port_group", f"{name}-pg")[0] == 0
    try:
        code, out, err = cli("network", "--vm", vm_name, "--add", "--port_group", f"{name}-pg")
        line, = [x for x in err.splitlines() if "not a member" in x]
        assert code == 2 and out == "" and "nothing was changed" in err
        assert f"VM {vm_name}: host vhpc-esx-02.hpc.vmware.com is not a member of distributed switch {name}" in line
        assert "vhpc-esx-02.hpc.vmware.com" in line and "Traceback" not in err
        assert len(nics(session, vm_name)) == 1
    finally:
        cli("dvs", "--destroy", "--name", name)
