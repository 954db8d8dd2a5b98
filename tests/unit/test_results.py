"""One result model: summaries count in the right unit, JSON keys name the target, one exit code rule."""
from vhpc_toolkit.errors import ExitCode
from vhpc_toolkit.results import (CHANGED, FAILED, HOST, UNCHANGED, Report, SwitchOutcome, TargetResult,
                                  exit_code)


def test_summary_counts_each_status():
    report = Report("cpumem", [TargetResult("a", CHANGED), TargetResult("b", UNCHANGED), TargetResult("c", FAILED)])
    assert report.summary() == "cpumem: 3 VMs: 1 changed, 1 already as asked, 1 failed"
    assert [r.name for r in report.failed] == ["c"]


def test_summary_unit_and_verb():
    report = Report("svs create", [TargetResult("h1", CHANGED, kind=HOST)])
    assert report.summary().startswith("svs create: 1 host: 1 changed")
    assert report.to_dict()["results"][0]["host"] == "h1"
    report = Report("destroy", [TargetResult("a", CHANGED), TargetResult("b", UNCHANGED, "absent")], done="destroyed",
                    unchanged="already absent")
    assert report.summary() == "destroy: 2 VMs: 1 destroyed, 1 already absent, 0 failed"
    assert report.to_dict()["results"][1]["detail"] == "absent"
    assert report.to_dict()["results"][1]["vm"] == "b"


def test_switch_outcome_json_has_no_internal_keys():
    out = SwitchOutcome("sw", "svs", ["h1"], "pg", created_hosts=["h1"], new=True)
    assert set(out.to_dict()) == {"name", "kind", "hosts", "port_group", "status", "detail"}


def test_exit_code_is_derived_from_the_result():
    ok = Report("x", [TargetResult("a", CHANGED)])
    bad = Report("x", [TargetResult("a", FAILED)])
    stopped = Report("x", [TargetResult("a", CHANGED)], interrupted=True)
    assert [exit_code(r) for r in (ok, bad, stopped, None)] == [
        ExitCode.OK, ExitCode.FAILED, ExitCode.INTERRUPTED, ExitCode.OK]


def test_words_plurals_and_none():
    from vhpc_toolkit.specs import Change
    from vhpc_toolkit.words import count

    assert [count(1, "host"), count(2, "host"), count(1, "switch"), count(2, "switch"), count(0, "VM"),
            count(2, "DRS rule")] == ["1 host", "2 hosts", "1 switch", "2 switches", "0 VMs", "2 DRS rules"]
    assert str(Change("passthrough", None, "0000:3b:00.0")) == "passthrough: none -> 0000:3b:00.0"
    assert str(Change("secure_boot", False, True)) == "secure_boot: no -> yes"
    assert str(Change("cpu", 0, 4)) == "cpu: 0 -> 4"
    assert Report("q", [TargetResult("a")]).summary() == "q: 1 VM: 0 changed, 1 already as asked, 0 failed"


def test_a_file_of_switches_only_is_summed_up_by_its_switches():
    from vhpc_toolkit.cluster.state.result import ClusterResult, ClusterStatus
    from vhpc_toolkit.results import SwitchOutcome

    sw = SwitchOutcome("swx", "svs", ["h1"], "swx-pg", status="absent")
    assert ClusterStatus([sw], [], []).summary() == "1 switch: 1 absent; differs from the file"
    assert ClusterResult([SwitchOutcome("swx", "svs", ["h1"], "swx-pg", status="created")], []).summary() == \
        "1 switch: 1 created"
    assert ClusterResult([], []).summary() == "0 VMs"
