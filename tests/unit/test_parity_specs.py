"""The pure parts of the original 1.0.3's commands and keys: affinity lists, secure boot, affinity and NUMA
specs, cores per socket, power policies by short name, host passthrough/SR-IOV configs, Dynamic DirectPath
devices, migration checks, and the cluster-file keys' rules."""
from __future__ import annotations


import pytest
from pyVmomi import vim

from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_text
from vhpc_toolkit.errors import ValidationFailed
from vhpc_toolkit.specs import tuning
from vhpc_toolkit.specs.compute import ComputeRequest, ResizeRefused, apply_compute
from vhpc_toolkit.specs.host import offered_policy, passthru_config, sriov_config
from vhpc_toolkit.specs.devices.passthrough import dynamic_passthrough_device, dynamic_type
from vhpc_toolkit.vsphere.inventory import Inventory, Obj


@pytest.mark.parametrize("text, numbers", [
    ("0, 2, 4:7, 8:12:2", [0, 2, 4, 5, 6, 7, 8, 10, 12]),
    ("3", [3]), ("1,1,0", [0, 1]), (" 0 : 4 : 2 ", [0, 2, 4]),
])
def test_affinity_lists_as_the_original_writes_them(text, numbers):
    assert tuning.parse_affinity(text) == numbers


@pytest.mark.parametrize("text", ["", "a", "4:2", "1:2:3:4", "0:4:0", "-1", "1.5"])
def test_bad_affinity_lists(text):
    with pytest.raises(tuning.AffinityError):
        tuning.parse_affinity(text)


def test_format_affinity():
    assert tuning.format_affinity([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11"
    assert tuning.format_affinity([]) == "none"


def current(**props):
    base = {"runtime.powerState": "poweredOff", "config.firmware": "efi"}
    base.update(props)
    return base


def test_secure_boot_spec():
    spec = vim.vm.ConfigSpec()
    assert tuning.apply_secure_boot(spec, current(), True)[0].new is True
    assert spec.bootOptions.efiSecureBootEnabled is True
    with pytest.raises(ValueError, match="BIOS firmware; secure boot needs EFI"):
        tuning.apply_secure_boot(vim.vm.ConfigSpec(), current(**{"config.firmware": "bios"}), True)
    with pytest.raises(ValueError, match="powered on"):
        tuning.apply_secure_boot(vim.vm.ConfigSpec(), current(**{"runtime.powerState": "poweredOn"}), True)
    # already as asked: nothing, even for a BIOS VM asked to turn it off
    assert tuning.apply_secure_boot(vim.vm.ConfigSpec(), current(**{"config.firmware": "bios"}), False) == []


def test_cpu_and_numa_affinity_specs():
    spec = vim.vm.ConfigSpec()
    tuning.apply_cpu_affinity(spec, current(), [0, 79], 80)
    assert list(spec.cpuAffinity.affinitySet) == [0, 79]
    with pytest.raises(ValueError, match="80 logical CPUs .* no CPU 80"):
        tuning.apply_cpu_affinity(vim.vm.ConfigSpec(), current(), [80], 80)
    spec = vim.vm.ConfigSpec()
    tuning.apply_numa_affinity(spec, current(), [0, 1], 2)
    assert [(o.key, o.value) for o in spec.extraConfig] == [("numa.nodeAffinity", "0,1")]
    with pytest.raises(ValueError, match="2 NUMA node"):
        tuning.apply_numa_affinity(vim.vm.ConfigSpec(), current(), [2], 2)
    set_ = current(**{"config.extraConfig": [vim.option.OptionValue(key="numa.nodeAffinity", value="1")]})
    spec = vim.vm.ConfigSpec()
    assert tuning.apply_numa_affinity(spec, set_, [], 2)[0].new == "none"
    assert spec.extraConfig[0].value == ""           # an empty value removes the key
    assert tuning.apply_numa_affinity(vim.vm.ConfigSpec(), current(), [], 2) == []


def test_cores_per_socket():
    vm = current(**{"config.hardware.numCPU": 4, "config.hardware.numCoresPerSocket": 1})
    spec = vim.vm.ConfigSpec()
    changes = apply_compute(spec, vm, ComputeRequest(cpu=44, cores_per_socket=22), None)
    assert spec.numCPUs == 44 and spec.numCoresPerSocket == 22 and [c.field for c in changes] == ["cpu", "cores_per_socket"]
    with pytest.raises(ValueError, match="sockets of 3 cores"):
        apply_compute(vim.vm.ConfigSpec(), vm, ComputeRequest(cores_per_socket=3), None)
    with pytest.raises(ValueError, match="give cores per socket too"):
        apply_compute(vim.vm.ConfigSpec(), {**vm, "config.hardware.numCoresPerSocket": 2}, ComputeRequest(cpu=5), None)
    with pytest.raises(ResizeRefused):
        apply_compute(vim.vm.ConfigSpec(), {**vm, "runtime.powerState": "poweredOn"},
                      ComputeRequest(cores_per_socket=2), None)


def test_power_policy_by_short_name_and_host_configs():
    policies = [vim.host.PowerSystem.PowerPolicy(key=k, shortName=s, name=n)
                for k, s, n in ((7, "dynamic", "Balanced"), (9, "static", "High performance"))]
    capability = vim.host.PowerSystem.Capability(availablePolicy=policies)
    assert offered_policy(capability, 1).key == 9 and offered_policy(capability, 3) is None
    assert passthru_config("0000:3b:00.0", False).passthruEnabled is False
    sriov = sriov_config("0000:af:00.0", True, 4)
    assert (sriov.sriovEnabled, sriov.numVirtualFunction, sriov.passthruEnabled) == (True, 4, False)
    assert sriov_config("0000:af:00.0", False, 4).numVirtualFunction == 0


def test_a_policy_the_host_does_not_offer_is_refused_before_any_change(monkeypatch):
    import vhpc_toolkit.ops.hosts.settings as hosts

    capability = vim.host.PowerSystem.Capability(availablePolicy=[
        vim.host.PowerSystem.PowerPolicy(key=2, shortName="dynamic", name="Balanced")])
    host = Obj(ref=vim.HostSystem("host-1"), type="HostSystem", props={"name": "esx1", "config.powerSystemCapability": capability,
                                                    "configManager.powerSystem": object()})
    monkeypatch.setattr(hosts, "read_hosts", lambda *a, **k: (Inventory(), [host]))
    with pytest.raises(ValidationFailed, match="does not offer the Low power power policy .*2 Balanced"):
        hosts.set_power_policy(None, [("esx1", "--host")], 3)


def test_dynamic_directpath_device():
    change = dynamic_passthrough_device(0x10DE, 0x1DB4)
    assert dynamic_type(change.device) == (0x10DE, 0x1DB4)
    assert change.operation == "add" and isinstance(change.device.backing,
                                                    vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)


def _host(name, moid, profiles=(), pgs=(), infos=()):
    return Obj(ref=vim.HostSystem(moid), type="HostSystem", props={
        "name": name, "config.sharedPassthruGpuTypes": list(profiles), "config.pciPassthruInfo": list(infos),
        "config.network.portgroup": [vim.host.PortGroup(spec=vim.host.PortGroup.Specification(name=p))
                                     for p in pgs]})


def test_migration_checks():
    from vhpc_toolkit.ops.vms.migrate import move_problems

    vgpu = vim.vm.device.VirtualPCIPassthrough(backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(
        vgpu="grid_v100-8q"))
    nic = vim.vm.device.VirtualVmxnet3(key=4000, backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(
        deviceName="pg-a"))
    vm = Obj(ref=vim.VirtualMachine("vm-1"), type="VirtualMachine", props={"name": "v", "runtime.powerState": "poweredOn",
                                                      "config.hardware.device": [vgpu, nic]})
    ok = _host("h2", "host-2", profiles=["grid_v100-8q"], pgs=["pg-a"])
    bad = _host("h3", "host-3", profiles=["grid_p100-4q"], pgs=["pg-b"])
    inv = Inventory({})
    assert move_problems(inv, vm, ok) == []
    problems = move_problems(inv, vm, bad)
    assert any("grid_v100-8q" in p and "grid_p100-4q" in p for p in problems)
    assert any("no port group pg-a" in p for p in problems)
    gpu = vim.vm.device.VirtualPCIPassthrough(backing=vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo(
        id="0000:3b:00.0"))
    running = Obj(ref=vim.VirtualMachine("vm-2"), type="VirtualMachine", props={"name": "g", "runtime.powerState": "poweredOn",
                                                           "config.hardware.device": [gpu]})
    assert "cannot vMotion" in move_problems(inv, running, ok)[0]


def spec_of(text):
    return parse_cluster_text(text, "c.conf", check_scripts=False)


def test_several_sriov_adapters_pair_up_in_order():
    [vm] = spec_of("[_VMS_]\nv: template: t sriov_port_group: a pf: 0000:af:00.0 sriov_dvs_name: d1 "
                   "sriov_port_group: b pf: 0000:af:00.1 sriov_dvs_name: d2\n").vms
    assert [(a.port_group, a.pf, a.dvs_name) for a in vm.sriov_adapters()] == [
        ("a", "0000:af:00.0", "d1"), ("b", "0000:af:00.1", "d2")]


@pytest.mark.parametrize("definition, message", [
    ("sriov_port_group: a pf: 0000:af:00.0 sriov_port_group: b", "2 sriov_port_group but 1 pf"),
    ("sriov_port_group: a pf: 0000:af:00.0 sriov_port_group: b pf: 0000:af:00.0 sriov_dvs_name: d",
     "2 SR-IOV adapters but 1 sriov_dvs_name"),
    ("instant: yes linked: yes", "instant and linked exclude each other"),
    ("instant: yes cpu: 4 ip: 10.0.0.1", "remove cpu, ip (or instant)"),
    ("instant: yes power: off", "runs from the start"),
    ("cores_per_socket: 0", "must be at least 1"),
    ("sequence: x", "is not an integer"),
])
def test_key_rules(definition, message):
    with pytest.raises(ClusterFileError) as err:
        spec_of("[_VMS_]\nv: template: t " + definition + "\n")
    assert message in str(err.value) and "c.conf:2:" in str(err.value)


@pytest.mark.parametrize("line", ["barrier:0", "barrier: 0", "sequence:0", "sequence: 0"])
def test_both_barrier_spellings_with_or_without_a_space(tmp_path, line):
    (tmp_path / "s.sh").write_text("true\n")
    [vm] = parse_cluster_text(f"[_VMS_]\nv: template: t script: s.sh {line}\n", "c.conf", base_dir=tmp_path).vms
    assert vm.scripts[0].barrier == 0 and vm.barrier == 0


def test_switch_mtu_and_optional_port_group():
    spec = spec_of("[_DVS_]\nd: host: h pnic: vmnic5 mtu: 9000\n[_SVS_]\ns: host: h pnic: vmnic4 port_group: p\n")
    assert (spec.dvs[0].mtu, spec.dvs[0].port_group, spec.svs[0].mtu) == (9000, None, None)
    with pytest.raises(ClusterFileError, match="1280 to 9000"):
        spec_of("[_SVS_]\ns: host: h pnic: vmnic4 mtu: 9216\n")
