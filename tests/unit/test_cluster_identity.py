"""A cluster's name ([_CLUSTER_] name:, else the file's stem) and the marks that carry it (marks.py)."""
from __future__ import annotations

import pytest

from vhpc_toolkit import marks
from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_text
from vhpc_toolkit.ops.hosts.pvrdma import parse_record, with_record

VMS = "[_VMS_]\nvm1: template: t\n"


def problems(text: str, path: str = "c.conf") -> list[str]:
    with pytest.raises(ClusterFileError) as err:
        parse_cluster_text(text, path, check_scripts=False)
    return err.value.problems


def test_the_section_names_the_cluster():
    spec = parse_cluster_text("[_CLUSTER_]\n# the identity on vCenter\nname: hpc-prod.v2_a\n" + VMS, "/x/y.conf")
    assert (spec.name, spec.name_line) == ("hpc-prod.v2_a", 3)


@pytest.mark.parametrize("path,name", [("/x/cluster-simple.conf", "cluster-simple"), ("a/my cluster.conf", "my-cluster"),
                                       ("ünï code!.conf", "n-code"), ("<string>", "string"), ("/x/a.b.conf", "a.b")])
def test_without_it_the_name_is_the_files_stem(path, name):
    spec = parse_cluster_text(VMS, path)
    assert (spec.name, spec.name_line) == (name, 0)
    spec = parse_cluster_text("[_CLUSTER_]\n" + VMS, path)   # a section without name: too
    assert spec.name == name


@pytest.mark.parametrize("value,message", [
    ("", "the cluster name is empty"),
    ("hpc prod", "cluster name 'hpc prod' has characters other than letters, digits, '-', '_' and '.' (' ')"),
    ("a/b:c", "has characters other than letters, digits, '-', '_' and '.' ('/:')"),
    ("x" * 65, "is longer than 64 characters"),
])
def test_bad_names_are_file_line_errors(value, message):
    found = problems(f"[_CLUSTER_]\nname: {value}\n" + VMS)
    assert len(found) == 1 and found[0].startswith("c.conf:2: [_CLUSTER_] ") and message in found[0]


def test_other_mistakes_in_the_section():
    found = problems("[_CLUSTER_]\nnmae: a\nname: a\nname: b\n[_VMS_]\nvm1: template: t _CLUSTER_\n")
    assert found == ["c.conf:2: [_CLUSTER_] nmae: unknown key (did you mean 'name'?) (the section takes name: NAME)",
                     "c.conf:4: [_CLUSTER_] name is given twice (first on line 3)",
                     "c.conf:6: VM 'vm1': section [_CLUSTER_] cannot be used in a definition"]


def test_a_standard_switch_whose_mark_would_be_too_long_is_refused():
    text = "[_CLUSTER_]\nname: {}\n[_SVS_]\n{}: host: h1 pnic: vmnic4\n"
    parse_cluster_text(text.format("c" * 36, "s" * 32), "c.conf")   # 11 + 36 + 1 + 32 = 80: fits
    found = problems(text.format("c" * 37, "s" * 32))
    assert found == [f"c.conf:4: switch {'s' * 32}: its ownership mark, port group 'vhpc-owner.{'c' * 37}.{'s' * 32}', "
                     "would be longer than 80 characters: give a shorter switch name or [_CLUSTER_] name"]


def test_marks_are_versioned_and_earlier_ones_recognised():
    text = marks.vm_mark("hpc-a")
    assert text == '{"cluster": "hpc-a", "format": 2}'
    assert marks.parse(text) == marks.Mark(cluster="hpc-a")
    assert marks.parse('{"cluster": "hpc-a", "format": 3, "since": "x"}') == marks.Mark(cluster="hpc-a")  # later formats
    assert marks.parse("ws1.example.com:/home/ann/c.conf") == marks.Mark(legacy="ws1.example.com:/home/ann/c.conf")
    assert marks.parse("elsewhere:/other.conf").legacy == "elsewhere:/other.conf"
    assert marks.parse("made by hand") == marks.Mark(other="made by hand")
    assert marks.parse('{"cluster": 3}') == marks.Mark(other='{"cluster": 3}')
    assert marks.parse("") is None and marks.parse(None) is None
    assert marks.legacy_mark("c.conf").endswith(":" + __import__("os").path.realpath("c.conf"))


def test_a_switch_description_keeps_its_text_and_pvrdma_record():
    desc = with_record("the RDMA fabric", {"h1": {"vnic": "vmk1"}})
    marked = marks.with_dvs_mark(desc, "hpc-a")
    assert marked.splitlines()[0] == 'vhpc_toolkit.owner: {"cluster": "hpc-a", "format": 2}'
    assert "the RDMA fabric" in marked and parse_record(marked) == {"h1": {"vnic": "vmk1"}}
    assert marks.dvs_mark(marked) == marks.Mark(cluster="hpc-a")
    again = marks.with_dvs_mark(with_record(marked, {"h2": {"vnic": "vmk2"}}), "hpc-b")   # adopted: one mark line
    assert again.count("vhpc_toolkit.owner:") == 1 and marks.dvs_mark(again).cluster == "hpc-b"
    assert parse_record(again) == {"h2": {"vnic": "vmk2"}}
    assert marks.dvs_mark("just a description") is None and marks.dvs_mark(None) is None


def test_a_standard_switch_mark_names_its_cluster_and_switch():
    assert marks.svs_mark("hpc.a", "ib.sw") == "vhpc-owner.hpc.a.ib.sw"
    assert marks.svs_mark_owner("vhpc-owner.hpc.a.ib.sw", "ib.sw") == "hpc.a"
    # The switch's own name decides: on switch "sw", this port group is cluster hpc.a.ib's mark.
    assert marks.svs_mark_owner("vhpc-owner.hpc.a.ib.sw", "sw") == "hpc.a.ib"
    assert marks.svs_mark("hpc.a.ib", "sw") == "vhpc-owner.hpc.a.ib.sw"
    assert marks.svs_mark_owner("VM Network", "vSwitch0") is None
    assert marks.svs_mark_owner("vhpc-owner..sw", "sw") is None
