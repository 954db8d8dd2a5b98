"""`clone` with requests instead of addresses (``--gpu N``, ``--vgpu P P``, ``--gpu_model``,
``--gpu_label``, ``--dynamic``, ``--placement``): the clones go through the cluster engine's planner, so
a clone gets the same choices (host, concrete GPUs, vGPU room, NUMA affinity) a cluster file's VM gets,
validated before any change, one CloneVM_Task each. The clones stay powered off, as `clone`'s do; the
GPUs the planner gives them are not given to another clone of the run.
"""
from __future__ import annotations

from vhpc_toolkit.cluster.applying.apply import ApplyOptions, apply_plan
from vhpc_toolkit.cluster.planning.prepare import prepare_create
from vhpc_toolkit.clusterfile import ClusterSpec, VMSpec
from vhpc_toolkit.clusterfile.requests import request_problems
from vhpc_toolkit.errors import ValidationFailed
from vhpc_toolkit.results import CHANGED, FAILED, UNCHANGED, Report, TargetResult

REQUEST_KEYS = ("gpu", "gpu_model", "gpu_label", "dynamic", "vgpu", "placement", "hardware_version")
_VM = "--vm"


def _position(where: str) -> tuple[str, int]:
    if where == _VM or ":" not in where:
        return _VM, 0
    path, _, line = where.rpartition(":")
    return path, int(line) if line.isdigit() else 0


def _plain(problem: str) -> str:
    """A problem without the ``--vm:0:`` position of a clone given on the command line."""
    prefix = f"{_VM}:0: "
    return problem[len(prefix):] if problem.startswith(prefix) else problem


def clone_with_requests(session, requests, asks: dict, concurrency: int = 32, on_event=None) -> Report:
    """Clone ``requests`` (ops/clone.CloneRequest) with the placement ``asks`` (REQUEST_KEYS)."""
    path, _ = _position(requests[0].where)
    vms = []
    for r in requests:
        vms.append(VMSpec(name=r.name, line=_position(r.where)[1], template=r.template, datacenter=r.datacenter,
                          vm_folder=r.vm_folder, cluster=r.cluster, host=r.host, datastore=r.datastore,
                          resource_pool=r.resource_pool, linked=r.linked or None, cpu=r.cpu, memory=r.memory_gb,
                          power="off", **{k: v for k, v in asks.items() if v is not None}))
    problems = [p for vm in vms[:1] for p in request_problems(vm)]
    if problems:
        raise ValidationFailed(problems, nothing="nothing was cloned")
    spec = ClusterSpec(path=path, vms=vms)
    try:
        prepared = prepare_create(session, spec, template_copies=False)   # no cluster to own copies
    except ValidationFailed as exc:
        raise ValidationFailed([_plain(p) for p in exc.problems], nothing="nothing was cloned") from None
    plan = prepared.plan
    results = {p.name: TargetResult(p.name) for p in plan.vms}
    todo = [p for p in plan.vms if p.action == "create"]
    for p in plan.vms:
        if p.action != "create":
            results[p.name].status, results[p.name].detail = UNCHANGED, "a VM of this name already exists; not cloned"
    if todo:
        result = apply_plan(session, plan, ApplyOptions(max_concurrency=concurrency), prepared.offers,
                            on_event=on_event)
        for out in result.vms:
            r = results[out.name]
            if out.action != "create":
                continue
            p = next(p for p in todo if p.name == out.name)
            r.data.update({"host": out.host, "devices": out.devices,
                           "placement": p.choice.to_dict() if p.choice is not None else None})
            if out.failed:
                r.status, r.detail = FAILED, f"clone failed: {out.detail}"
            else:
                chosen = f"; {p.choice.describe()}" if p.choice is not None else ""
                r.status, r.detail = CHANGED, f"{'linked' if p.spec.linked else 'full'} clone of " \
                                              f"{p.spec.template} on {out.host}{chosen}"
    return Report("clone", [results[p.name] for p in plan.vms])
