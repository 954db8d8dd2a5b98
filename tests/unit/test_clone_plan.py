"""The clone planner against vCenter's admission model (cluster/cloning/plan.py): given hosts, VMs and
costs, the rounds it plans, and that every plan keeps within what vCenter admits."""
from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings, strategies as st

from vhpc_toolkit.cluster.cloning.plan import COPY, KEPT, TEMPLATE, CloneRequest, plan_clones
from vhpc_toolkit.settings.admission import FULL, INSTANT, LINKED, AdmissionModel

DOCUMENTED = AdmissionModel()   # 16 units per host, a full clone 2 per side, a linked one 1, 640 at once


def cluster(n: int, hosts: int, kind: str = FULL, template_host: str = "tmpl-host") -> list[CloneRequest]:
    """n VMs round-robin over ``hosts`` hosts, all from one template on ``template_host``."""
    return [CloneRequest(f"vm{i}", f"h{i % hosts:02d}", "tmpl", template_host, kind) for i in range(n)]


def seeding_rounds(hosts: int) -> int:
    """Rounds of copies until every host has one: each source makes 8 a round, so 9x sources a round."""
    return math.ceil(math.log(hosts, 9) - 1e-9)


def check_admission(plan, requests: list[CloneRequest]) -> None:
    """What the plan runs at any moment fits the model, every VM is made once, from a source that exists."""
    model = plan.model
    units = model.host_units or math.inf
    events = sorted([(s.start, 1, s) for s in plan.steps] + [(s.end, 0, s) for s in plan.steps],
                    key=lambda e: (e[0], e[1]))
    used, running = Counter(), 0
    for _, starting, step in events:
        sign = 1 if starting else -1
        for host, u in model.charges(step.kind, step.source.host, step.host).items():
            used[host] += sign * u
            assert used[host] <= units, (step, used[host])
        running += sign
        assert running <= (model.max_operations or math.inf)
    assert Counter(s.vm for s in plan.steps if s.vm) == Counter(r.name for r in requests)
    made = {(s.source.template, s.host): s.end for s in plan.steps if s.vm is None}
    for s in plan.steps:
        if s.source.kind == COPY:
            assert made[(s.source.template, s.source.host)] <= s.start + 1e-9, s
        if s.source.kind == TEMPLATE:
            assert s.source.host == next(r.template_host for r in requests if r.template == s.source.template)
    vm_host = {r.name: r.host for r in requests}
    assert all(s.host == vm_host[s.vm] for s in plan.steps if s.vm)
    assert plan.finish <= plan.direct + 1e-9


def test_256_vms_on_16_hosts_take_6_rounds_against_32_from_the_template():
    requests = cluster(256, 16)
    plan = plan_clones(requests, DOCUMENTED)
    assert plan.direct == 32 and plan.finish == seeding_rounds(16) + math.ceil(256 / (4 * 16)) == 6
    assert len(plan.copies) == 16 and {s.host for s in plan.copies} == {f"h{i:02d}" for i in range(16)}
    # after the copies, each VM comes from the copy on its own host
    assert all(s.source.kind == COPY and s.source.host == s.host for s in plan.steps if s.vm)
    check_admission(plan, requests)


def test_1024_vms_on_64_hosts_take_6_rounds_against_128():
    requests = cluster(1024, 64)
    plan = plan_clones(requests, DOCUMENTED)
    assert (plan.finish, plan.direct, len(plan.copies)) == (6, 128, 64)
    assert max(s.end for s in plan.copies) == seeding_rounds(64) == 2
    check_admission(plan, requests)


def test_the_clone_time_gives_seconds():
    plan = plan_clones(cluster(256, 16), AdmissionModel(clone_time=240))
    assert plan.finish == 6 * 240 and plan.rounds() == 6


def test_few_vms_need_no_copy():
    """8 VMs: one round from the template; a copy would only add a round."""
    plan = plan_clones(cluster(8, 7), DOCUMENTED)
    assert (plan.finish, plan.copies) == (1, [])
    assert all(s.source.kind == TEMPLATE for s in plan.steps)


def test_clones_to_the_templates_own_host_run_4_at_a_time():
    plan = plan_clones(cluster(12, 1, template_host="h00"), DOCUMENTED)
    assert (plan.finish, plan.copies) == (3, [])


def test_copies_kept_from_an_earlier_run_save_the_seeding():
    hosts = {f"h{i:02d}" for i in range(16)}
    plan = plan_clones(cluster(256, 16), DOCUMENTED, kept={"tmpl": hosts})
    assert (plan.finish, plan.copies) == (4, []) and {s.host for s in plan.kept} == hosts
    assert all(s.source.kind == KEPT for s in plan.steps)


def test_a_template_that_may_not_be_copied_gives_all_clones():
    plan = plan_clones(cluster(256, 16), DOCUMENTED, copyable=set())
    assert (plan.finish, plan.copies) == (32, [])


def test_linked_clones_cost_one_unit_16_at_a_time_at_a_tenth_of_the_time():
    requests = cluster(64, 8, LINKED)
    plan = plan_clones(requests, DOCUMENTED)
    assert plan.copies == [] and math.isclose(plan.finish, 4 * 0.1)
    check_admission(plan, requests)


def test_instant_clones_fork_their_source_on_its_host():
    requests = [CloneRequest(f"ic{i}", "src-host", "running-vm", "src-host", INSTANT) for i in range(16)]
    plan = plan_clones(requests, DOCUMENTED)
    # an instant clone takes a linked clone's cost on both sides of its one host: 8 at a time
    assert plan.copies == [] and math.isclose(plan.finish, 2 * 0.01)
    check_admission(plan, requests)


def test_the_vcenter_wide_limit_holds():
    model = AdmissionModel(max_operations=10)
    requests = cluster(256, 16)
    plan = plan_clones(requests, model)
    assert plan.finish >= 256 / 10
    check_admission(plan, requests)


def test_more_units_per_host():
    """A vCenter whose hosts have 32 units (vCenter.conf host_units: 32): 16 clones of one source at once."""
    plan = plan_clones(cluster(256, 16), AdmissionModel(host_units=32))
    assert plan.direct == 16 and plan.finish == 1 + math.ceil(256 / (8 * 16)) == 3


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 120), hosts=st.integers(1, 12), units=st.sampled_from([0, 4, 8, 16, 32]),
       full=st.integers(1, 2), limit=st.sampled_from([0, 5, 640]), linked=st.integers(0, 20),
       template_in_cluster=st.booleans())
def test_every_plan_keeps_within_the_model(n, hosts, units, full, limit, linked, template_in_cluster):
    model = AdmissionModel(host_units=units, full_clone_cost=full, linked_clone_cost=1, max_operations=limit)
    if units and 2 * full > units:
        return
    th = "h00" if template_in_cluster else "tmpl-host"
    requests = cluster(n, hosts, template_host=th) + \
        [CloneRequest(f"l{i}", f"h{i % hosts:02d}", "tmpl", th, LINKED) for i in range(linked)]
    plan = plan_clones(requests, model)
    check_admission(plan, requests)
