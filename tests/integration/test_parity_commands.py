"""The original 1.0.3's commands and flags on the lab, read back with pyVmomi: get_vm_config, migrate_vm,
secure_boot, vm_sched_affinity, numa_affinity, power_policy, passthru_host, sriov_host, passthru --dynamic,
cpumem --cores_per_socket, svs/dvs --mtu. Every refusal comes before any change (exit 2, one line)."""
from __future__ import annotations

import json
import uuid

import pytest
from pyVmomi import vim

from vhpc_toolkit.vsphere.inventory import read_inventory

HOST, OTHER, HPC_HOST = "vhpc-esx-02.hpc.vmware.com", "vhpc-esx-04.hpc.vmware.com", "vhpc-esx-01.hpc.vmware.com"
GPU, GPU2, PF = "0000:3b:00.0", "0000:d8:00.0", "0000:af:00.0"


def vm_obj(session, name):
    inv = read_inventory(session, {"VirtualMachine": []})
    return inv.find("VirtualMachine", name).ref


def host_obj(session, name):
    return read_inventory(session, {"HostSystem": []}).find("HostSystem", name).ref


@pytest.fixture
def vm(cli):
    """A fresh powered-off clone on HOST (name), destroyed afterwards."""
    made = []

    def make(host=HOST):
        name = f"p{uuid.uuid4().hex[:7]}"
        code, _, err = cli("clone", "--template", "vhpc_clone", "--vm", name, "--host", host)
        assert code == 0, err
        made.append(name)
        return name

    yield make
    for name in made:
        cli("destroy", "--vm", name)


def one_line_refusal(code, err, *words):
    assert code == 2 and "Traceback" not in err and "nothing was changed" in err, err
    for w in words:
        assert w in err, err


def test_settings_commands_and_get_vm_config(cli, session, vm):
    name = vm()
    assert cli("cpumem", "--vm", name, "--cpu", "8", "--cores_per_socket", "4")[0] == 0
    assert cli("vm_sched_affinity", "--vm", name, "--affinity", "0, 2, 4:7, 8:12:2")[0] == 0
    assert cli("numa_affinity", "--vm", name, "--affinity", "1")[0] == 0
    assert cli("secure_boot", "--vm", name, "--on")[0] == 0
    ref = vm_obj(session, name)
    assert ref.config.hardware.numCPU == 8 and ref.config.hardware.numCoresPerSocket == 4
    assert list(ref.config.cpuAffinity.affinitySet) == [0, 2, 4, 5, 6, 7, 8, 10, 12]
    assert {o.key: o.value for o in ref.config.extraConfig}["numa.nodeAffinity"] == "1"
    assert ref.config.bootOptions.efiSecureBootEnabled is True

    code, out, err = cli("--output", "json", "get_vm_config", "--vm", name)
    assert code == 0, err
    config = json.loads(out)["results"][0]["config"]
    assert config["cpu"]["vcpus"] == 8 and config["cpu"]["cores_per_socket"] == 4
    assert config["cpu"]["affinity"] == [0, 2, 4, 5, 6, 7, 8, 10, 12]
    assert config["numa_node_affinity"] == [1] and config["secure_boot"] is True and config["firmware"] == "efi"
    code, out, _ = cli("get_vm_config", "--vm", name)
    assert code == 0 and "8 (2 sockets of 4 cores)" in out and "0,2,4-8,10,12" in out

    # again: nothing to do
    code, out, _ = cli("--output", "json", "vm_sched_affinity", "--vm", name, "--affinity", "0,2,4:8,10,12")
    assert code == 0 and json.loads(out)["results"][0]["status"] == "unchanged"
    # refusals, before any change
    one_line_refusal(*cli("vm_sched_affinity", "--vm", name, "--affinity", "0:95")[::2], "80 logical CPUs", "80-95")
    one_line_refusal(*cli("numa_affinity", "--vm", name, "--affinity", "0:3")[::2], "2 NUMA nodes")
    one_line_refusal(*cli("cpumem", "--vm", name, "--cpu", "6")[::2], "sockets of 4 cores")
    assert list(vm_obj(session, name).config.cpuAffinity.affinitySet)[-1] == 12
    assert cli("vm_sched_affinity", "--vm", name, "--clear")[0] == 0
    assert cli("numa_affinity", "--vm", name, "--clear")[0] == 0
    ref = vm_obj(session, name)
    assert not (ref.config.cpuAffinity and ref.config.cpuAffinity.affinitySet)
    assert "numa.nodeAffinity" not in {o.key for o in ref.config.extraConfig}

    # powered on: the original's rule (and vSphere's for affinity and secure boot)
    assert cli("power", "--vm", name, "--on")[0] == 0
    one_line_refusal(*cli("secure_boot", "--vm", name, "--off")[::2], "powered on")
    one_line_refusal(*cli("vm_sched_affinity", "--vm", name, "--affinity", "0")[::2], "powered on")
    assert cli("power", "--vm", name, "--off")[0] == 0


def test_secure_boot_needs_efi(cli, session, vm):
    name = vm()
    ref = vm_obj(session, name)
    from vhpc_toolkit.vsphere.tasks import wait_for_task

    wait_for_task(session, ref.ReconfigVM_Task(spec=vim.vm.ConfigSpec(firmware="bios")))
    one_line_refusal(*cli("secure_boot", "--vm", name, "--on")[::2], "BIOS", "EFI")
    assert not ref.config.bootOptions or not ref.config.bootOptions.efiSecureBootEnabled


def test_migrate_vm(cli, session, vm):
    name = vm()
    assert cli("passthru", "--vm", name, "--add", "--device", GPU)[0] == 0
    code, out, err = cli("--output", "json", "migrate_vm", "--vm", name, "--destination", HPC_HOST)
    assert code == 0, err
    detail = json.loads(out)["results"][0]["detail"]
    assert "cold migration" in detail and f"device(s) {GPU} chosen again on {HPC_HOST}" in detail
    ref = vm_obj(session, name)
    # The device names its new host (ESXi powers it on only then): QueryConfigTarget's systemId there.
    backing, = [d.backing for d in ref.config.hardware.device if isinstance(d, vim.vm.device.VirtualPCIPassthrough)]
    assert backing.id == GPU and backing.systemId == host_obj(session, HPC_HOST).hardware.systemInfo.uuid
    hpc = read_inventory(session, {"ClusterComputeResource": ["resourcePool"]}).find(
        "ClusterComputeResource", "HPC_Cluster")
    assert ref.runtime.host == host_obj(session, HPC_HOST) and ref.resourcePool == hpc.get("resourcePool")
    assert cli("power", "--vm", name, "--on")[0] == 0
    one_line_refusal(*cli("migrate_vm", "--vm", name, "--destination", HOST)[::2], "cannot vMotion", GPU)
    assert vm_obj(session, name).runtime.host == host_obj(session, HPC_HOST)
    one_line_refusal(*cli("migrate_vm", "--vm", name, "--destination", "vhpc-esx-42")[::2], "vhpc-esx-42")
    assert cli("power", "--vm", name, "--off")[0] == 0
    assert cli("migrate_vm", "--vm", name, "--destination", HOST)[0] == 0
    assert vm_obj(session, name).runtime.host == host_obj(session, HOST)


def set_vcenter_option(session, key, value):
    session.content.setting.UpdateOptions(changedValue=[vim.option.OptionValue(key=key, value=value)])


def test_vmotion_of_a_vgpu_vm_waits_for_vcenters_setting(cli, session, vm):
    """vSphere 7 vMotions a running vGPU VM only when vCenter's vgpu.hotmigrate.enabled is true: refused
    before any change with the setting named, done once it is set."""
    name = vm()
    assert cli("vgpu", "--vm", name, "--add", "--profile", "grid_v100-8q")[0] == 0
    assert cli("power", "--vm", name, "--on")[0] == 0
    try:
        one_line_refusal(*cli("migrate_vm", "--vm", name, "--destination", OTHER)[::2],
                         "vgpu.hotmigrate.enabled", "power the VM off")
        assert vm_obj(session, name).runtime.host == host_obj(session, HOST)
        set_vcenter_option(session, "vgpu.hotmigrate.enabled", "true")
        code, out, err = cli("--output", "json", "migrate_vm", "--vm", name, "--destination", OTHER)
        assert code == 0 and "vMotion" in json.loads(out)["results"][0]["detail"], err + out
        assert vm_obj(session, name).runtime.host == host_obj(session, OTHER)
    finally:
        set_vcenter_option(session, "vgpu.hotmigrate.enabled", "false")
        cli("power", "--vm", name, "--off")


def test_power_policy(cli, session):
    try:
        code, out, err = cli("--output", "json", "power_policy", "--host", OTHER, "--policy", "1")
        assert code == 0, err
        assert json.loads(out)["results"][0]["policy"] == "High performance"
        host = host_obj(session, OTHER)
        assert host.config.powerSystemInfo.currentPolicy.shortName == "static"
        code, out, _ = cli("--output", "json", "power_policy", "--host", OTHER, "--policy", "1")
        assert json.loads(out)["results"][0]["status"] == "unchanged"
    finally:
        assert cli("power_policy", "--host", OTHER, "--policy", "2")[0] == 0


def test_passthru_host(cli, session, vm):
    try:
        assert cli("passthru_host", "--host", OTHER, "--device", GPU2, "--off")[0] == 0
        info = {i.id: i for i in host_obj(session, OTHER).config.pciPassthruInfo}
        assert not info[GPU2].passthruEnabled
        one_line_refusal(*cli("passthru", "--vm", vm(OTHER), "--add", "--device", GPU2)[::2], "not enabled")
    finally:
        assert cli("passthru_host", "--host", OTHER, "--device", GPU2, "--on")[0] == 0
    user = vm(OTHER)
    assert cli("passthru", "--vm", user, "--add", "--device", GPU2)[0] == 0
    assert cli("power", "--vm", user, "--on")[0] == 0
    one_line_refusal(*cli("passthru_host", "--host", OTHER, "--device", GPU2, "--off")[::2], user)
    one_line_refusal(*cli("passthru_host", "--host", OTHER, "--device", PF, "--on")[::2], "SR-IOV")
    assert cli("power", "--vm", user, "--off")[0] == 0


def test_sriov_host(cli, session, vm, lab):
    def pf_info():
        return {i.id: i for i in host_obj(session, OTHER).config.pciPassthruInfo}[PF]

    try:
        code, out, err = cli("--output", "json", "sriov_host", "--host", OTHER, "--device", PF, "--on",
                             "--num_func", "3")
        assert code == 0, err
        row, = json.loads(out)["results"]
        assert row["virtual_functions"] == 3 and row["status"] == "changed" and row["reboot_required"] is True
        assert "reboot required" in row["detail"] and "now on with 8 VFs" in row["detail"]
        # ESXi keeps the request until the host boots: the active count is still 8.
        assert (pf_info().numVirtualFunctionRequested, pf_info().numVirtualFunction) == (3, 8)
        # Asking again changes nothing; it still says the reboot is pending.
        code, out, err = cli("--output", "json", "sriov_host", "--host", OTHER, "--device", PF, "--on",
                             "--num_func", "3")
        row, = json.loads(out)["results"]
        assert code == 0 and row["status"] == "unchanged" and row["reboot_required"] is True, out
        lab.post(f"/debug/reboot?host={OTHER}")
        code, out, err = cli("--output", "json", "sriov_host", "--host", OTHER, "--device", PF, "--on",
                             "--num_func", "3")
        row, = json.loads(out)["results"]
        assert code == 0 and row["status"] == "unchanged" and row["reboot_required"] is False, out
        assert pf_info().numVirtualFunction == 3 and pf_info().sriovActive
        one_line_refusal(*cli("sriov_host", "--host", OTHER, "--device", PF, "--on", "--num_func", "9")[::2],
                         "at most 8")
        one_line_refusal(*cli("sriov_host", "--host", OTHER, "--device", "0000:af:00.1", "--on")[::2],
                         "not an SR-IOV physical function")
        user = vm(OTHER)
        assert cli("sriov", "--vm", user, "--add", "--sriov_port_group", "vHPC-PG-VMNetwork", "--pf", PF,
                   "--allow_guest_mtu_change", "no")[0] == 0
        card = next(d for d in vm_obj(session, user).config.hardware.device
                    if isinstance(d, vim.vm.device.VirtualSriovEthernetCard))
        assert card.allowGuestOSMtuChange is False
        assert cli("power", "--vm", user, "--on")[0] == 0
        one_line_refusal(*cli("sriov_host", "--host", OTHER, "--device", PF, "--off")[::2], "in use")
        assert cli("power", "--vm", user, "--off")[0] == 0
    finally:
        assert cli("sriov_host", "--host", OTHER, "--device", PF, "--on", "--num_func", "8")[0] == 0
        lab.post(f"/debug/reboot?host={OTHER}")
    assert pf_info().numVirtualFunction == 8


def test_a_virtual_function_count_waiting_for_a_reboot_is_not_usable(cli, cluster_file, lab, session):
    """SR-IOV turned on but not yet active (the host has not rebooted): no adapter can use its functions,
    and the plan says so before any change."""
    host = "vhpc-esx-06.hpc.vmware.com"
    try:
        assert cli("sriov_host", "--host", host, "--device", PF, "--off")[0] == 0
        lab.post(f"/debug/reboot?host={host}")
        code, out, err = cli("--output", "json", "sriov_host", "--host", host, "--device", PF, "--on")
        assert code == 0 and json.loads(out)["results"][0]["reboot_required"] is True, err + out
        path, pfx = cluster_file(f"[_VMS_]\nPFX-1: template: vhpc_clone host: {host} "
                                 f"sriov_port_group: vHPC-PG-VMNetwork pf: {PF}\n")
        code, _, err = cli("cluster", "--create", "--file", path)
        assert code == 2 and "waits for the host's reboot" in err and "nothing was changed" in err, err
    finally:
        assert cli("sriov_host", "--host", host, "--device", PF, "--on", "--num_func", "8")[0] == 0
        lab.post(f"/debug/reboot?host={host}")
    info = {i.id: i for i in host_obj(session, host).config.pciPassthruInfo}[PF]
    assert info.numVirtualFunction == 8 and info.sriovActive


def test_passthru_dynamic(cli, session, vm):
    name = vm()
    # The clone is its template's vmx-13; Dynamic DirectPath needs 17: refused with the fix, or upgraded first.
    one_line_refusal(*cli("passthru", "--vm", name, "--add", "--dynamic", "--device", GPU)[::2],
                     "needs virtual hardware version 17", "--hardware_version 17")
    assert vm_obj(session, name).config.version == "vmx-13"
    one_line_refusal(*cli("passthru", "--vm", name, "--add", "--dynamic", "--device", GPU, "--hardware_version",
                          "18")[::2], "newer than host", "up to vmx-17")
    code, out, err = cli("--output", "json", "passthru", "--vm", name, "--add", "--dynamic", "--device", GPU, GPU2,
                         "--hardware_version", "17")
    assert code == 0, err
    assert vm_obj(session, name).config.version == "vmx-17"
    devices = [d for d in vm_obj(session, name).config.hardware.device
               if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)]
    assert len(devices) == 2
    allowed = devices[0].backing.allowedDevice[0]
    assert (allowed.vendorId & 0xFFFF, allowed.deviceId & 0xFFFF) == (0x10DE, 0x1DB4)
    assert vm_obj(session, name).config.memoryReservationLockedToMax is True
    code, out, _ = cli("--output", "json", "passthru", "--vm", name, "--add", "--dynamic", "--device", GPU, GPU2)
    assert json.loads(out)["results"][0]["status"] == "unchanged"
    one_line_refusal(*cli("passthru", "--vm", name, "--add", "--dynamic", "--device", "0000:aa:00.0")[::2],
                     "no PCI device 0000:aa:00.0")
    assert cli("passthru", "--vm", name, "--remove", "--dynamic", "--device", GPU)[0] == 0
    assert not [d for d in vm_obj(session, name).config.hardware.device
                if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)]


def test_switch_mtu(cli, session):
    sw = f"m{uuid.uuid4().hex[:6]}"
    try:
        assert cli("svs", "--create", "--host", OTHER, "--name", sw, "--pnic", "vmnic3", "--port_group",
                   f"{sw}-pg", "--mtu", "9000")[0] == 0
        switch = next(v for v in host_obj(session, OTHER).config.network.vswitch if v.name == sw)
        assert switch.mtu == 9000
        one_line_refusal(*cli("svs", "--create", "--host", OTHER, "--name", sw, "--pnic", "vmnic3", "--port_group",
                              f"{sw}-pg", "--mtu", "1500")[::2], "MTU 9000")
        assert cli("dvs", "--create", "--name", f"{sw}-d", "--host", OTHER, "--pnic", "vmnic2", "--mtu", "9000")[0] == 0
        dvs = read_inventory(session, {"DistributedVirtualSwitch": []}).find("DistributedVirtualSwitch", f"{sw}-d")
        assert dvs.ref.config.maxMtu == 9000
    finally:
        cli("svs", "--destroy", "--host", OTHER, "--name", sw)
        cli("dvs", "--destroy", "--name", f"{sw}-d")
