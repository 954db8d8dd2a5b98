"""--rollback: what a failed run created goes again (its VMs, the copies of the template it made, the
DRS rules and switches it made), nothing else."""
from __future__ import annotations

from vhpc_toolkit.cluster.cloning.run import remove_made_copies
from vhpc_toolkit.cluster.networks.switches import rollback_switches
from vhpc_toolkit.cluster.placement.rules import rollback_rules
from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan
from vhpc_toolkit.cluster.state.result import ClusterResult
from vhpc_toolkit.ops.vms.destroy import Doomed, power_off_and_destroy
from vhpc_toolkit.results import CREATED, ROLLED_BACK, TargetResult
from vhpc_toolkit.words import count


def rollback(session, plan: ClusterPlan, result: ClusterResult) -> None:
    """Destroy what this run created (after something failed): its VMs, then its switches."""
    wanted_on = {p.name for p in plan.vms if p.spec.power == "on"}
    created = [o for o in result.vms if o.action == CREATE and o.ref is not None and
               (o.status == CREATED or o.unapplied)]   # created, whether or not vCenter applied it all
    doomed = [Doomed(o.ref, o.name in wanted_on, TargetResult(o.name)) for o in created]
    power_off_and_destroy(session, doomed)
    for o, d in zip(created, doomed):
        if d.result.failed:
            o.detail += f"; rollback failed: {d.result.detail}"
        else:
            o.status, o.detail, o.ip = ROLLED_BACK, "created, then destroyed by --rollback", None
    result.notes.append(f"--rollback destroyed {count(sum(not d.result.failed for d in doomed), 'VM')} "
                        "created by this run")
    result.notes += remove_made_copies(session, plan.clones)
    result.notes += rollback_rules(session, plan.rules, result.rules)
    result.notes += rollback_switches(session, result.switches)
