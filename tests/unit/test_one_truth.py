"""One truth, said once: each VM's own IP and host name, value ranges longer or shorter than the VM
name's, the `Plan:` line, the grouped text plan, one line per cause."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from vhpc_toolkit.cli.main import main
from vhpc_toolkit.cluster.planning.problems import said_once
from vhpc_toolkit.cluster.planning.summary import PlanCounts, create_counts, destroy_counts
from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_text
from vhpc_toolkit.namelists import compact_names

B = "[B]\ntemplate: t\nport_group: pg\n[_VMS_]\n"


def parse(text: str):
    return parse_cluster_text(text, "c.conf", base_dir="/nonexistent")


def problems(text: str) -> list[str]:
    with pytest.raises(ClusterFileError) as err:
        parse(text)
    return err.value.problems


def test_a_longer_value_range_gives_its_first_items_and_says_what_is_left():
    spec = parse(B + "node{1:4}: B ip: 10.0.0.{1:8} guest_hostname: n{{01:08}} host: h{1:9}\n")
    assert [vm.ip for vm in spec.vms] == ["10.0.0.%d" % i for i in range(1, 5)]
    assert [vm.guest_hostname for vm in spec.vms] == ["n01", "n02", "n03", "n04"]
    assert [vm.host for vm in spec.vms] == ["h1", "h2", "h3", "h4"]
    assert spec.notes == [
        "c.conf:5: VM 'node{1:4}': ip: 10.0.0.{1:8} has 8 values for 4 VMs; 10.0.0.5..10.0.0.8 left unused",
        "c.conf:5: VM 'node{1:4}': guest_hostname: n{{01:08}} has 8 values for 4 VMs; n05..n08 left unused",
        "c.conf:5: VM 'node{1:4}': host: h{1:9} has 9 values for 4 VMs; h5..h9 left unused"]


def test_shrinking_the_name_range_is_a_one_number_edit():
    grown = parse(B + "node{1:8}: B ip: 10.0.0.{1:8}\n")
    shrunk = parse(B + "node{1:4}: B ip: 10.0.0.{1:8}\n")
    assert [(v.name, v.ip) for v in shrunk.vms] == [(v.name, v.ip) for v in grown.vms][:4]
    assert grown.notes == [] and len(shrunk.notes) == 1


def test_a_longer_range_in_a_section_is_noted_at_the_section_line():
    spec = parse("[NET]\nip: 10.0.0.{1:3}\n" + B + "a{1:2}: B NET\n")
    assert spec.notes == ["c.conf:2: [NET] ip: 10.0.0.{1:3} has 3 values for 2 VMs; 10.0.0.3 left unused "
                          "(used by VM 'a{1:2}')"]


def test_a_shorter_range_repeats_for_hosts_datastores_and_port_groups_only():
    spec = parse(B + "n{1:4}: B host: h{{1:2}} datastore: ds{1:2} port_group: pg{1:2}\n")
    assert [(v.host, v.datastore, v.port_group) for v in spec.vms] == [
        ("h1", "ds1", "pg1"), ("h1", "ds2", "pg2"), ("h2", "ds1", "pg1"), ("h2", "ds2", "pg2")]
    for key, value in (("ip", "10.0.0.{1:2}"), ("guest_hostname", "g{1:3}")):
        [line] = problems(B + "n{1:4}: B %s: %s\n" % (key, value))
        assert line.startswith("c.conf:5: VM 'n{1:4}': %s: range " % key) and "each VM needs its own" in line


def test_duplicate_ip_across_lines_and_sections_names_both_lines():
    text = "[NET]\nip: 10.0.0.7\n" + B + "login: B NET\nnode{1:3}: B ip: 10.0.0.{5:7}\n"
    assert problems(text) == ["c.conf:8: ip 10.0.0.7 is given to 2 VMs: login (c.conf:7), node3 (c.conf:8); "
                              "each VM needs its own"]


def test_dhcp_vms_share_no_address_and_distinct_ranges_pass():
    parse(B + "a{1:3}: B is_dhcp: yes ip: 10.0.0.1\nb{1:3}: B ip: 10.0.1.{1:3}\n")


def test_a_guest_host_name_is_its_vm_name_when_not_given():
    assert problems(B + "node1: B is_dhcp: yes\nother: B is_dhcp: yes guest_hostname: NODE1\n") == [
        "c.conf:6: guest host name node1 is given to 2 VMs: node1 (c.conf:5), other (c.conf:6); "
        "each VM needs its own"]


def test_compact_names():
    assert compact_names(["login01", "gpu01", "gpu02", "gpu03", "gpu04"]) == "login01, gpu01..gpu04"
    assert compact_names(["n9", "n10", "n11", "x"]) == "n9..n11, x"
    assert compact_names(["a1", "a2"]) == "a1, a2"
    assert compact_names(["10.0.0.%d" % i for i in (1, 3, 5, 7, 9)], limit=3) == \
        "10.0.0.1, 10.0.0.3, 10.0.0.5 and 2 more"


def test_one_cause_is_said_once_with_the_vms_it_hits():
    path = "c.conf"
    found = [f"{path}:3: VM login01: template 'x' not found; did you mean 'vhpc_clone'?"] + \
        [f"{path}:7: VM gpu0{i}: template 'x' not found; did you mean 'vhpc_clone'?" for i in range(1, 5)] + \
        [f"{path}:9: VM other: port_group 'p' not found", f"{path}:9: switch s: host h not found"] + \
        [f"{path}:12: VM n{i} on host h5: the host offers no vGPU profile grid_x" for i in range(1, 4)] + \
        [f"{path}:12: VM n4 on host h6: the host offers no vGPU profile grid_x"]
    assert said_once(found, path) == [
        "c.conf:3: template 'x' not found: login01, gpu01..gpu04 (lines 3, 7); did you mean 'vhpc_clone'?",
        "c.conf:9: VM other: port_group 'p' not found", "c.conf:9: switch s: host h not found",
        "c.conf:12: VMs n1..n3 on host h5: the host offers no vGPU profile grid_x",
        "c.conf:12: VM n4 on host h6: the host offers no vGPU profile grid_x"]


def test_the_plan_line():
    assert PlanCounts(create=12, change=2, switch_create=1).line() == \
        "Plan: 12 to create, 2 to change, 0 to destroy, 1 switch to create"
    assert PlanCounts(destroy=4, switch_destroy=2).line() == \
        "Plan: 0 to create, 0 to change, 4 to destroy, 2 switches to destroy"
    assert PlanCounts(create=1, switch_change=1, host_prepare=2, rule_change=1).line() == \
        "Plan: 1 to create, 0 to change, 0 to destroy, 0 switches to create, 1 switch to complete, " \
        "2 hosts to prepare for PVRDMA, 1 DRS rule to write"


def test_counts_of_a_create_and_a_destroy_plan():
    vm = lambda action, power_on=False: SimpleNamespace(action=action, power_on=power_on)   # noqa: E731
    sw = lambda action, exists: SimpleNamespace(action=action, exists=exists)   # noqa: E731
    plan = SimpleNamespace(vms=[vm("create"), vm("create", True), vm("reconfigure"), vm("nothing", True),
                                vm("drift"), vm("nothing")],
                           prune=True, prunable=[1, 2], switches=[sw("create", False), sw("create", True),
                                                                  sw("nothing", True)],
                           pvrdma=[], rules=[SimpleNamespace(pending=True), SimpleNamespace(pending=False)])
    assert create_counts(plan).to_dict() == {"create": 2, "change": 2, "destroy": 2, "switch_create": 1,
                                             "switch_change": 1, "switch_destroy": 0, "host_prepare": 0,
                                             "rule_change": 1}
    plan.prune = False
    assert create_counts(plan).destroy == 0
    assert destroy_counts(SimpleNamespace(present=[1, 2, 3], switches=[1])).line() == \
        "Plan: 0 to create, 0 to change, 3 to destroy, 1 switch to destroy"


def test_the_text_plan_groups_vms_that_differ_only_by_name_and_ip(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    f = tmp_path / "g.conf"
    f.write_text(B + "login: B ip: 10.0.0.100\nnode{1:8}: B ip: 10.0.0.{1:8} host: esx1\n"
                     "gpu{01:03}: B is_dhcp: yes host: esx{1:3}\n")
    assert main(["cluster", "--plan", "--file", str(f)]) == 0
    out = capsys.readouterr().out
    assert "node1..node8 (8 VMs)" in out and "10.0.0.1..10.0.0.8" in out and "node2" not in out
    assert all(f"gpu0{i}" in out for i in (1, 2, 3))    # on different hosts: one row each
    assert "VMs (12)" in out


def test_plan_json_and_text_say_what_a_longer_range_left(tmp_path, capsys):
    f = tmp_path / "c.conf"
    f.write_text(B + "node{1:2}: B ip: 10.0.0.{1:3}\n")
    assert main(["cluster", "--plan", "--file", str(f)]) == 0
    assert "10.0.0.3 left unused" in capsys.readouterr().out
    assert main(["--output", "json", "cluster", "--plan", "--file", str(f)]) == 0
    assert any("10.0.0.3 left unused" in n for n in json.loads(capsys.readouterr().out)["notes"])
