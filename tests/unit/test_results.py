"""Report summaries say what happened, counted in the right unit."""
from vhpc_toolkit.ops.results import CHANGED, FAILED, UNCHANGED, OperationReport, VMResult


def test_summary_counts_each_status():
    report = OperationReport("cpumem", [VMResult("a", CHANGED), VMResult("b", UNCHANGED), VMResult("c", FAILED)])
    assert report.summary() == "cpumem: 3 VM(s): 1 changed, 1 already as asked, 1 failed"
    assert [r.vm for r in report.failed] == ["c"]


def test_summary_unit_and_verb():
    report = OperationReport("svs create", [VMResult("h1", CHANGED)], unit="host")
    assert report.summary().startswith("svs create: 1 host(s): 1 changed")
    report = OperationReport("destroy", [VMResult("a", CHANGED), VMResult("b", UNCHANGED, "absent")], done="destroyed")
    assert report.summary() == "destroy: 2 VM(s): 1 destroyed, 1 already as asked, 0 failed"
    assert report.to_dict()["results"][1]["detail"] == "absent"
