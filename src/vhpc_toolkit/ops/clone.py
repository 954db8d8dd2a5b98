"""`clone`: full or linked clones of a template, placed and sized in the clone spec itself."""
from __future__ import annotations

from dataclasses import dataclass

from vhpc_toolkit.errors import ValidationFailed, VhpcError
from vhpc_toolkit.limits import name_problem
from vhpc_toolkit.ops.placement import PROPS as PLACEMENT_PROPS, place, ref_of
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_batch
from vhpc_toolkit.ops.targets import read_vm_file
from vhpc_toolkit.results import FAILED, UNCHANGED, Report, TargetResult
from vhpc_toolkit.specs.clone import clone_spec
from vhpc_toolkit.specs.compute import memory_mb
from vhpc_toolkit.vsphere.inventory import Obj, read_inventory
from vhpc_toolkit.vsphere.tasks import wait_for_task

TEMPLATE_PROPS = ["config.template", "snapshot", "datastore", "runtime.host"]
LINKED_SNAPSHOT_NAME = "vhpc-linked-clone-base"
PER_HOST = 8  # vSphere queues more provisioning operations than this per host


@dataclass(frozen=True)
class CloneRequest:
    name: str
    template: str
    linked: bool = False
    datacenter: str | None = None
    vm_folder: str | None = None
    cluster: str | None = None
    host: str | None = None
    datastore: str | None = None
    resource_pool: str | None = None
    cpu: int | None = None
    memory_gb: float | None = None
    where: str = "--vm"


def requests_from_file(path: str, **common) -> list[CloneRequest]:
    """Lines `vm [cluster [host [datastore]]]`; a field on the line overrides the flag."""
    out = []
    for number, fields in read_vm_file(path):
        names = ("cluster", "host", "datastore")
        over = {k: v for k, v in zip(names, fields[1:4])}
        if len(fields) > 4:
            raise ValidationFailed([f"{path}:{number}: expected `vm [cluster [host [datastore]]]`, "
                                    f"got {len(fields)} fields"])
        out.append(CloneRequest(name=fields[0], where=f"{path}:{number}", **{**common, **over}))
    return out


def check_requests(requests: list[CloneRequest]) -> None:
    """What needs no vCenter: names vCenter would refuse, a name listed twice (before any login)."""
    problems, seen = [], set()
    for req in requests:
        prefix = f"{req.where}: " if req.where != "--vm" else ""
        if req.name in seen:
            problems.append(f"{prefix}VM {req.name} is listed twice")
        elif name_problem(req.name):
            problems.append(f"{prefix}{name_problem(req.name)}")
        seen.add(req.name)
    if problems:
        raise ValidationFailed(problems, nothing="nothing was cloned")


def template_snapshot(session, template: Obj):
    """The snapshot a linked clone starts from; one is taken when the template has none."""
    info = template.get("snapshot")
    if info is not None and info.currentSnapshot is not None:
        return info.currentSnapshot
    task = template.ref.CreateSnapshot_Task(name=LINKED_SNAPSHOT_NAME,
                                            description="base of vhpc_toolkit linked clones",
                                            memory=False, quiesce=False)
    return wait_for_task(session, task, what=f"snapshot of template {template.name}")


def clone_vms(session, requests: list[CloneRequest], concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> Report:
    from pyVmomi import vim

    check_requests(requests)
    props = dict(PLACEMENT_PROPS)
    props["VirtualMachine"] = TEMPLATE_PROPS
    props["Folder"] = []
    inv = read_inventory(session, props)
    existing = {o.name for o in inv.of_type("VirtualMachine")}

    problems, planned, results = [], [], []
    for req in requests:   # names are unique (check_requests)
        result = TargetResult(req.name)
        results.append(result)
        prefix = f"{req.where}: " if req.where != "--vm" else ""
        try:
            template = inv.find("VirtualMachine", req.template, what="template")
            placement = place(inv, template, req.datacenter, req.vm_folder, req.cluster, req.host,
                              None if req.linked else req.datastore, req.resource_pool)
        except VhpcError as exc:
            problems.append(f"{prefix}{req.name}: {exc}")
            continue
        if req.name in existing:
            result.status, result.detail = UNCHANGED, "a VM of this name already exists; not cloned"
            continue
        planned.append((req, template, placement, result))
    if problems:
        raise ValidationFailed(problems, nothing="nothing was cloned")

    snapshots: dict[str, object] = {}
    jobs = []
    for req, template, placement, result in planned:
        snapshot = None
        if req.linked:
            if template.moid not in snapshots:
                snapshots[template.moid] = template_snapshot(session, template)
            snapshot = snapshots[template.moid]
        config = None
        if req.cpu is not None or req.memory_gb is not None:
            config = vim.vm.ConfigSpec(numCPUs=req.cpu,
                                       memoryMB=memory_mb(req.memory_gb) if req.memory_gb else None)
        spec = clone_spec(host=placement.host.ref, pool=placement.pool,
                          datastore=placement.datastore.ref if placement.datastore else None,
                          linked=req.linked, snapshot=snapshot, config=config)
        kind = "linked clone" if req.linked else "full clone"
        result.detail = f"{kind} of {template.name} on {placement.host.name}"
        jobs.append(Job(result=result, key=placement.host.moid, start=lambda t=template, f=ref_of(placement.folder), n=req.name, s=spec:
                        t.ref.CloneVM_Task(folder=f, name=n, spec=s)))
    interrupted = run_batch(session, jobs, concurrency=concurrency, per_key=PER_HOST, on_event=on_event)
    for r in results:
        if r.status == FAILED:
            r.detail = f"clone failed: {r.detail}"
    return Report("clone", results, interrupted=interrupted)
