"""cluster --status's view of a group's DRS rule (cluster/rules.rule_status), on plain objects."""
from __future__ import annotations

from types import SimpleNamespace

from vhpc_toolkit.cluster.rules import RulePlan, rule_status

CLUSTER = SimpleNamespace(name="C")


def rule(enabled=True, compliant=True):
    return SimpleNamespace(enabled=enabled, inCompliance=compliant)


def test_no_rule_is_absent_once_two_of_its_vms_exist():
    plan = RulePlan(CLUSTER, "g", None, vms=["a", "b", "c"], missing=["a", "b", "c"])
    assert rule_status(plan, {"a"}) is None                     # a rule needs two VMs
    assert rule_status(plan, {"a", "b"}).status == "absent"


def test_a_rule_missing_an_existing_vm_is_incomplete_not_one_that_is_still_to_be_made():
    plan = RulePlan(CLUSTER, "g", rule(), vms=["a", "b", "c"], missing=["c"])
    assert rule_status(plan, {"a", "b"}).status == "up to date"
    out = rule_status(plan, {"a", "b", "c"})
    assert out.status == "incomplete" and "c" in out.detail


def test_disabled_or_broken_rules_are_drift():
    vms = dict(vms=["a", "b"], missing=[])
    assert rule_status(RulePlan(CLUSTER, "g", rule(enabled=False), **vms), {"a", "b"}).detail == "disabled on vCenter"
    assert rule_status(RulePlan(CLUSTER, "g", rule(compliant=False), **vms), {"a", "b"}).status == "drift"
    assert rule_status(RulePlan(CLUSTER, "g", rule(compliant=None), **vms), {"a", "b"}).status == "up to date"
