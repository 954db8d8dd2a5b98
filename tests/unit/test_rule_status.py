"""cluster --status's view of a group's DRS rule (cluster/rules.rule_status), on plain objects."""
from __future__ import annotations

from types import SimpleNamespace

from vhpc_toolkit.cluster.placement.rules import RulePlan, rule_status

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


def test_a_group_on_a_cluster_with_drs_off_is_warned_about():
    from vhpc_toolkit.cluster.placement.rules import drs_off_warnings

    def cluster(name, drs):
        config = SimpleNamespace(drsConfig=SimpleNamespace(enabled=drs))
        return SimpleNamespace(name=name, get=lambda path: config if path == "configurationEx" else None)

    vms = [SimpleNamespace(name=n, spec=SimpleNamespace(line=line)) for n, line in (("a", 7), ("b", 7), ("c", 9))]
    plan = SimpleNamespace(spec=SimpleNamespace(path="c.conf"), vms=vms, rules=[
        RulePlan(cluster("OFF", False), "g", None, vms=["a", "b"]),
        RulePlan(cluster("UNSET", None), "h", None, vms=["a", "c"]),
        RulePlan(cluster("ON", True), "i", None, vms=["a", "b"]),
        RulePlan(cluster("OFF", False), "single", None, vms=["c"])])
    warnings = drs_off_warnings(plan)
    assert len(warnings) == 2
    assert warnings[0].startswith("c.conf:7: anti_affinity g: cluster OFF has DRS off")
    assert "stores the rule but does not enforce it" in warnings[0] and "cluster UNSET" in warnings[1]
