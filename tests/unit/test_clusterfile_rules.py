"""The format's rules, one behaviour per test (values asserted exactly)."""
from __future__ import annotations

import os

import pytest

from vhpc_toolkit.clusterfile import (
    ScriptStep,
    VMSpec,
    parse_cluster_file,
    parse_cluster_text,
)

BASE = "[BASE]\ntemplate: tpl\n"


def vms(definitions: str, sections: str = BASE, **kw):
    """Parse ``sections`` plus a _VMS_ section holding ``definitions``."""
    kw.setdefault("base_dir", "/nonexistent")
    kw.setdefault("check_scripts", False)
    text = sections + "\n[_VMS_]\n" + definitions + "\n"
    return parse_cluster_text(text, "c.conf", **kw).vms


def one(definition: str, sections: str = BASE, **kw) -> VMSpec:
    [vm] = vms("vm1: BASE " + definition, sections, **kw)
    return vm


# ------------------------------------------------------------------ tokens


@pytest.mark.parametrize(
    "definition, key, expected",
    [
        ("host: vhpc-esx-05.hpc.vmware.com", "host", "vhpc-esx-05.hpc.vmware.com"),
        ("barrier:0", "barrier", 0),
        ("dvs_name:pvrdma-dvs", "dvs_name", "pvrdma-dvs"),
        ("sriov_port_group: pg pf: 0000:af:00.0", "pf", ["0000:af:00.0"]),
        ("sriov_port_group:pg pf:0000:AF:00.0", "pf", ["0000:af:00.0"]),
        ("sequence:1", "barrier", 1),
        ("sequence: 2", "sequence", 2),
        ("dns: ['172.1.110.1', '172.1.110.2']", "dns", ["172.1.110.1", "172.1.110.2"]),
        ("dns:['172.1.110.1',   \"172.1.110.2\" ,]", "dns", ["172.1.110.1", "172.1.110.2"]),
        ("device: [ '0000:3B:00.0' , '0000:d8:00.0' ]", "device", ["0000:3b:00.0", "0000:d8:00.0"]),
        ("CPU: 8", "cpu", 8),                       # keys are case-insensitive
        ("guest_password: VMware1!", "guest_password", "VMware1!"),
    ],
)
def test_definition_items(definition, key, expected):
    assert one(definition).get(key) == expected


def test_items_after_a_list_still_apply():
    vm = one("dns: ['1.1.1.1', '8.8.8.8'] cpu: 2 host: h1")
    assert (vm.dns, vm.cpu, vm.host) == (["1.1.1.1", "8.8.8.8"], 2, "h1")


def test_key_with_empty_value_before_another_key_is_ignored():
    vm = one("vm_folder: cpu: 3", BASE + "vm_folder: f\n")
    assert (vm.vm_folder, vm.cpu) == ("f", 3)


def test_key_with_empty_value_at_end_is_ignored():
    assert one("host:", BASE + "host: h\n").host == "h"


def test_section_values_may_contain_spaces_and_colons():
    vm = one("", BASE + "datacenter: HPC Datacenter\ncluster:  a:b \n")
    assert (vm.datacenter, vm.cluster) == ("HPC Datacenter", "a:b")


def test_comments_blank_lines_crlf_and_bom():
    text = "\ufeff# top\r\n[BASE]\r\n# c\r\n; also a comment\r\ntemplate: t\r\n\r\n[_VMS_]\r\nvm1: BASE\r\n"
    [vm] = parse_cluster_text(text, "c.conf").vms
    assert (vm.name, vm.template, vm.line) == ("vm1", "t", 8)


def test_vm_names_keep_case():
    assert [vm.name for vm in vms("GPU-Node{1:2}: BASE")] == ["GPU-Node1", "GPU-Node2"]


# ------------------------------------------------------------ composition


def test_sections_spliced_in_order_rightmost_wins():
    sections = BASE + "cpu: 4\n[BIG]\ncpu: 16\nmemory: 64\n"
    assert one("BIG", sections).cpu == 16
    [vm] = vms("vm1: BIG BASE", sections)
    assert (vm.cpu, vm.memory) == (4, 64.0)
    assert one("BIG cpu: 2", sections).cpu == 2
    [vm] = vms("vm1: cpu: 2 BIG BASE", sections)
    assert vm.cpu == 4


def test_duplicate_key_in_a_section_last_wins():
    assert one("", BASE + "cpu: 1\ncpu: 2\n").cpu == 2


def test_not_given_is_none_power_defaults_on():
    vm = one("")
    assert vm.cpu is None and vm.dns is None and vm.scripts == [] and vm.power == "on"
    assert vm.to_dict() == {"name": "vm1", "template": "tpl", "power": "on"}


# ------------------------------------------------------------------ types


@pytest.mark.parametrize("word", ["yes", "Y", "TRUE", "t", "1", "True"])
def test_true_words(word):
    assert one("linked: %s" % word).linked is True


@pytest.mark.parametrize("word", ["no", "N", "false", "F", "0", "FaLsE"])
def test_false_words(word):
    assert one("is_dhcp: %s" % word).is_dhcp is False


@pytest.mark.parametrize(
    "definition, key, expected",
    [
        ("cpu: 20", "cpu", 20),
        ("memory: 16", "memory", 16.0),
        ("memory: 0.5", "memory", 0.5),
        ("mmio_size: 256", "mmio_size", 256),
        ("mmio_size: 1", "mmio_size", 1),
        ("cpu_shares: 2000", "cpu_shares", 2000),
        ("memory_shares: 0", "memory_shares", 0),
        ("barrier: 7", "barrier", 7),
        ("cpu_reservation: yes", "cpu_reservation", True),
        ("memory_reservation: no", "memory_reservation", False),
        ("latency: HIGH", "latency", "high"),
        ("latency: normal", "latency", "normal"),
        ("power: off", "power", "off"),
        ("power: On", "power", "on"),
        ("ip: 10.0.0.7", "ip", "10.0.0.7"),
        ("netmask: 255.255.240.0", "netmask", "255.255.240.0"),
        ("gateway: 10.0.0.1", "gateway", "10.0.0.1"),
        ("dns: 10.0.0.2", "dns", ["10.0.0.2"]),                 # bare value: one-item list
        ("device: 0000:D8:00.0", "device", ["0000:d8:00.0"]),
        ("device: []", "device", []),
        ("vgpu: grid_v100-32q", "vgpu", "grid_v100-32q"),
        ("sriov_port_group: sriov-pg pf: 0000:af:00.0", "sriov_port_group", ["sriov-pg"]),
        ("pvrdma_port_group: pg", "pvrdma_port_group", "pg"),
    ],
)
def test_typed_values(definition, key, expected):
    value = one(definition).get(key)
    assert value == expected and type(value) is type(expected)


# ------------------------------------------------------------------ ranges


def hosts(definition: str, sections: str = BASE):
    return [vm.host for vm in vms(definition, sections)]


def test_round_robin_pads_by_cycling():
    assert hosts("vm{4:7}: BASE host: esx{2:3}") == ["esx2", "esx3", "esx2", "esx3"]


def test_consecutive_pads_by_repeating():
    assert hosts("vm{4:7}: BASE host: esx{{2:3}}") == ["esx2", "esx2", "esx3", "esx3"]


def test_consecutive_uneven_split_gives_earlier_ones_extra():
    assert hosts("vm{1:5}: BASE host: h{{1:2}}") == ["h1", "h1", "h1", "h2", "h2"]
    assert hosts("vm{1:7}: BASE host: h{{1:3}}") == ["h1", "h1", "h1", "h2", "h2", "h3", "h3"]


def test_name_range_style_does_not_matter():
    assert hosts("vm{{1:4}}: BASE host: h{1:2}") == ["h1", "h2", "h1", "h2"]
    assert [vm.name for vm in vms("vm{{1:3}}: BASE")] == ["vm1", "vm2", "vm3"]


def test_equal_length_ranges_pair_up():
    got = [(vm.name, vm.ip, vm.guest_hostname, vm.datastore)
           for vm in vms("n{1:3}: BASE ip: 10.0.0.{11:13} guest_hostname: node{1:3} datastore: ds{{1:3}}")]
    assert got == [("n1", "10.0.0.11", "node1", "ds1"), ("n2", "10.0.0.12", "node2", "ds2"),
                   ("n3", "10.0.0.13", "node3", "ds3")]


def test_leading_zeros_kept_width_of_longer_bound():
    names = [vm.name for vm in vms("vm{01:16}: BASE")]
    assert names[0] == "vm01" and names[8] == "vm09" and names[-1] == "vm16" and len(names) == 16
    assert [vm.name for vm in vms("v{08:10}: BASE")] == ["v08", "v09", "v10"]
    assert [vm.name for vm in vms("v{001:3}: BASE")] == ["v001", "v002", "v003"]
    assert [vm.name for vm in vms("v{9:11}: BASE")] == ["v9", "v10", "v11"]


def test_range_at_start_of_token_and_repeated():
    got = [(vm.name, vm.host) for vm in vms("{1:2}-vm: BASE host: {1:2}.esx{1:2}")]
    assert got == [("1-vm", "1.esx1"), ("2-vm", "2.esx2")]


def test_range_in_section_value_expands_per_vm_line():
    sections = BASE + "[HOSTS]\nhost: vhpc-esx-0{5:8}.hpc.vmware.com\n"
    got = hosts("a{1:4}: BASE HOSTS\nb{1:8}: BASE HOSTS", sections)
    assert got == ["vhpc-esx-0%d.hpc.vmware.com" % h for h in (5, 6, 7, 8)] + [
        "vhpc-esx-0%d.hpc.vmware.com" % h for h in (5, 6, 7, 8, 5, 6, 7, 8)]


def test_single_vm_with_plain_values():
    assert hosts("solo: BASE host: h") == ["h"]


# ---------------------------------------------------------------- switches


def switches(lines: str, sections: str = ""):
    return parse_cluster_text(sections + lines + "\n", "c.conf")


def test_every_switch_line_is_read_and_host_range_lists_hosts():
    spec = switches(
        "[H]\nhost: esx-{{01:03}}\n[_SVS_]\ns1: pnic: vmnic4 H port_group: pg1\n"
        "s2: pnic: ['vmnic6', 'vmnic7'] host: solo port_group: pg2 datacenter: DC\n"
        "[_DVS_]\nd1: H pnic: vmnic5 port_group: pg3\nd2: H pnic:vmnic5 port_group:pg4\n"
    )
    assert [s.to_dict() for s in spec.svs] == [
        {"name": "s1", "host": ["esx-01", "esx-02", "esx-03"], "pnic": ["vmnic4"], "port_group": "pg1"},
        {"name": "s2", "host": ["solo"], "pnic": ["vmnic6", "vmnic7"], "port_group": "pg2",
         "datacenter": "DC"},
    ]
    assert [(s.name, s.kind, s.line) for s in spec.dvs] == [("d1", "dvs", 7), ("d2", "dvs", 8)]
    assert spec.vms == []


def test_vmk_ip_gives_each_host_of_a_pvrdma_switch_its_address_in_host_order():
    spec = switches("[H]\nhost: esx-{{01:03}}\n[_DVS_]\nd1: H pnic: vmnic5 port_group: pg "
                    "vmk_ip: 10.1.0.{{11:13}} vmk_netmask: 255.255.0.0\n"
                    "d2: host: esx-09 pnic: vmnic5 port_group: pg2 vmk_ip: 10.2.0.9 vmk_netmask: 255.255.255.0\n")
    d1, d2 = spec.dvs
    assert d1.vmk_addresses() == {"esx-01": ("10.1.0.11", "255.255.0.0"), "esx-02": ("10.1.0.12", "255.255.0.0"),
                                  "esx-03": ("10.1.0.13", "255.255.0.0")}
    assert d1.to_dict()["vmk_ip"] == ["10.1.0.11", "10.1.0.12", "10.1.0.13"]
    assert d2.vmk_addresses() == {"esx-09": ("10.2.0.9", "255.255.255.0")}


# ----------------------------------------------------------------- scripts


def test_script_appends_and_barrier_labels_what_is_left_of_it(tmp_path):
    for name in ("a.sh", "b.sh", "c.sh", "d.sh"):
        (tmp_path / name).write_text("#!/bin/sh\n")
    sections = BASE + "[P]\nscript: a.sh\nscript: b.sh\n"
    vm = one("P barrier: 10 script: c.sh barrier: 2 script: d.sh", sections, base_dir=tmp_path,
             check_scripts=True)
    assert [(os.path.basename(s.path), s.barrier) for s in vm.scripts] == [
        ("a.sh", 10), ("b.sh", 10), ("c.sh", 2), ("d.sh", None)]
    assert vm.barrier == 2
    groups = [(b, [os.path.basename(s.path) for s in steps]) for b, steps in vm.script_groups()]
    assert groups == [(None, ["d.sh"]), (2, ["c.sh"]), (10, ["a.sh", "b.sh"])]
    assert vm.to_dict()["script"][0] == {"path": str(tmp_path / "a.sh"), "barrier": 10}


def test_script_paths_resolve_against_the_files_folder(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "x.sh").write_text("true\n")
    f = tmp_path / "conf" / "c.conf"
    f.write_text("[_VMS_]\nvm1: template: t script: ../scripts/x.sh script: %s\n"
                 % (tmp_path / "scripts" / "x.sh"))
    vm = parse_cluster_file(f).vms[0]
    assert vm.scripts == [ScriptStep(str(tmp_path / "scripts" / "x.sh"))] * 2
    assert vm.scripts[0].source == "../scripts/x.sh"


def test_cluster_script_phases_run_order():
    spec = parse_cluster_text(
        "[_VMS_]\na: template: t script: /s1 barrier: 10 script: /s2\n"
        "b: template: t script: /s3 barrier: 2\n", "c.conf", check_scripts=False)
    phases = [(b, [(vm.name, s.path) for vm, s in steps]) for b, steps in spec.script_phases()]
    assert phases == [(None, [("a", "/s2")]), (2, [("b", "/s3")]), (10, [("a", "/s1")])]


def test_to_dict_full():
    vm = one("cpu: 2 memory: 4.5 dns: 1.1.1.1 device: ['0000:3b:00.0'] script: /x.sh barrier: 3 power: off")
    assert vm.to_dict() == {
        "name": "vm1", "template": "tpl", "cpu": 2, "memory": 4.5, "dns": ["1.1.1.1"],
        "device": ["0000:3b:00.0"], "script": [{"path": "/x.sh", "barrier": 3}], "barrier": 3,
        "power": "off",
    }


def test_parse_file_ok(tmp_path):
    f = tmp_path / "ok.conf"
    f.write_text(BASE + "[_VMS_]\nvm1: BASE\n")
    spec = parse_cluster_file(f)
    assert spec.path == str(f) and [vm.name for vm in spec.vms] == ["vm1"]
    assert spec.vm("vm1").template == "tpl"
    with pytest.raises(KeyError):
        spec.vm("nope")
