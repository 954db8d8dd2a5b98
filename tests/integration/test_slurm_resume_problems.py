"""A resume whose plan refuses some nodes fails only those: two nodes that share one problem (said
once for both in the plan's message) are marked failed, the other two are resumed."""
from __future__ import annotations

import json

from tests.integration.test_slurm_programs import finish, program, vms

CLUSTER = """
[_SLURM_]
controller: 127.0.0.1:9
resume_timeout: 60

[BASE]
template: vhpc_clone
datacenter: HPC_Datacenter
cluster: COMPUTE_GPU_Cluster
datastore: COMPUTE01_vsanDatastore
cpu: 2
memory: 4
elastic: yes

[_VMS_]
PFX-login: BASE role: login elastic: no
PFX-cpu{1:2}: BASE
PFX-cpu{3:4}: BASE template: PFX-no-such-template
"""


def test_a_problem_of_two_nodes_fails_those_two_only(lab, session, cluster_file):
    path, pfx = cluster_file(CLUSTER)
    code, out = finish(program(lab, "resume", f"{pfx}-cpu[1-4]", path))
    assert code == 1, out
    results = {r["vm"]: r for r in json.loads(out[:out.rindex("}") + 1])["results"]}
    assert {n for n, r in results.items() if r["status"] == "failed"} == {f"{pfx}-cpu3", f"{pfx}-cpu4"}, out
    assert "no-such-template" in results[f"{pfx}-cpu3"]["detail"], out
    made = vms(session, {f"{pfx}-cpu{i}" for i in range(1, 5)})
    assert set(made) == {f"{pfx}-cpu1", f"{pfx}-cpu2"}
    assert all(vm.runtime.powerState == "poweredOn" for vm in made.values())
