"""`clone`: full or linked clones of a template, placed and sized in the clone spec itself, and read
back after the tasks (one read) so the report says what vCenter holds."""
from __future__ import annotations

from dataclasses import dataclass

from vhpc_toolkit.errors import ValidationFailed, VhpcError
from vhpc_toolkit.limits import name_problem
from vhpc_toolkit.marks import OWNER_KEY
from vhpc_toolkit.ops.vms.linked import base_snapshot, linked_note, linked_problem
from vhpc_toolkit.ops.post.steps import STEPS_KEY
from vhpc_toolkit.ops.vms.placement import PROPS as PLACEMENT_PROPS, place, ref_of
from vhpc_toolkit.ops.admission import Ledger
from vhpc_toolkit.ops.runner import DEFAULT_CONCURRENCY, Job, run_batch
from vhpc_toolkit.ops.vms.targets import read_vm_file
from vhpc_toolkit.results import FAILED, UNCHANGED, Report, TargetResult
from vhpc_toolkit.settings.admission import FULL, LINKED, admission_of
from vhpc_toolkit.specs.clone import clone_spec
from vhpc_toolkit.specs.compute import memory_mb
from vhpc_toolkit.vsphere.inventory import Obj, read_inventory, read_objects

# extraConfig keys that belong to the toolkit's clusters, never to a plain clone
TOOLKIT_KEYS = (OWNER_KEY, STEPS_KEY)

TEMPLATE_PROPS = ["config.template", "snapshot", "datastore", "runtime.host"]
# What the one read after the clones compares with the request.
CHECK_PROPS = ["name", "runtime.host", "runtime.powerState", "config.hardware.numCPU", "config.hardware.memoryMB",
               "config.template", "datastore"]
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


def clone_vms(session, requests: list[CloneRequest], concurrency: int = DEFAULT_CONCURRENCY, on_event=None) -> Report:
    check_requests(requests)
    props = dict(PLACEMENT_PROPS)
    props["VirtualMachine"] = TEMPLATE_PROPS
    props["Folder"] = []
    inv = read_inventory(session, props)
    results = [TargetResult(req.name) for req in requests]   # names are unique (check_requests)
    planned = _plan_clones(inv, requests, results)
    snapshots: dict[str, object] = {}
    jobs, made, model = [], {}, admission_of(session)
    for req, template, placement, result in planned:
        jobs.append(_clone_job(session, req, template, placement, result, snapshots, made, model))
    # As many at once as vCenter admits (16 units per host, a full clone 2 on each side): none queued there.
    interrupted = run_batch(session, jobs, concurrency=concurrency, per_key=PER_HOST, on_event=on_event,
                            budget=Ledger(model))
    for r in results:
        if r.status == FAILED:
            r.detail = f"clone failed: {r.detail}"
    check_clones(session, inv, {r.name: r for r in results}, made)
    return Report("clone", results, interrupted=interrupted)


def _plan_clones(inv, requests: list[CloneRequest], results: list[TargetResult]) -> list[tuple]:
    """(request, template, placement, result) of each clone to make; every problem at once
    (ValidationFailed, nothing cloned); a name that exists already is reported and skipped."""
    existing = {o.name for o in inv.of_type("VirtualMachine")}
    problems, planned, unlinkable = [], [], {}
    for req, result in zip(requests, results):
        prefix = f"{req.where}: " if req.where != "--vm" else ""
        try:
            template = inv.find("VirtualMachine", req.template, what="template")
            placement = place(inv, template, req.datacenter, req.vm_folder, req.cluster, req.host,
                              None if req.linked else req.datastore, req.resource_pool)
        except VhpcError as exc:
            problems.append(f"{prefix}{req.name}: {exc}")
            continue
        if req.linked and linked_problem(template):
            unlinkable.setdefault(template.moid, (template, []))[1].append(req.name)
            continue
        if req.name in existing:
            result.status, result.detail = UNCHANGED, "a VM of this name already exists; not cloned"
            continue
        planned.append((req, template, placement, result))
    for template, names in unlinkable.values():   # one line per template, not per VM
        problems.append(f"{linked_problem(template)} (linked clones asked: {', '.join(names)})")
    if problems:
        raise ValidationFailed(problems, nothing="nothing was cloned")
    return planned


def _clone_job(session, req: CloneRequest, template, placement, result: TargetResult, snapshots: dict,
               made: dict, model) -> Job:
    """The CloneVM_Task of one request (a linked clone from its template's snapshot, read once), with
    what vCenter charges it (``model``: settings/admission.py)."""
    from pyVmomi import vim

    snapshot = None
    if req.linked:
        note = linked_note(template)
        if template.moid not in snapshots:
            snapshots[template.moid] = base_snapshot(session, template)
        snapshot = snapshots[template.moid]
    # vSphere copies the source's extraConfig: a clone of a cluster's VM would carry that cluster's
    # owner mark and script record, and be taken for the cluster's own (an empty value removes a key).
    config = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=k, value="") for k in TOOLKIT_KEYS])
    if req.cpu is not None or req.memory_gb is not None:
        config.numCPUs, config.memoryMB = req.cpu, memory_mb(req.memory_gb) if req.memory_gb else None
    spec = clone_spec(host=placement.host.ref, pool=placement.pool,
                      datastore=placement.datastore.ref if placement.datastore else None,
                      linked=req.linked, snapshot=snapshot, config=config)
    result.detail = f"linked clone of {template.name} ({note})" if req.linked else f"full clone of {template.name}"
    source = template.get("runtime.host")
    charges = model.charges(LINKED if req.linked else FULL, source._moId if source is not None else "",
                            placement.host.moid)
    return Job(result=result, key=placement.host.moid, charges=lambda c=charges: c,
               on_success=lambda ref, r=result, req=req, p=placement: made.update({r.name: (ref, req, p)}),
               start=lambda t=template, f=ref_of(placement.folder), n=req.name, s=spec:
               t.ref.CloneVM_Task(folder=f, name=n, spec=s))


def check_clones(session, inv, results: dict[str, TargetResult], made: dict) -> None:
    """What vCenter holds for the new VMs, in one read: the report shows it, and a clone that is not
    what was asked (a task may succeed without applying its whole spec) fails with the difference."""
    if not made:
        return
    now = read_objects(session, [ref for ref, _, _ in made.values()], CHECK_PROPS)
    for name, (ref, req, placement) in made.items():
        result, vm = results[name], now.get(ref._moId)
        if vm is None:
            result.status, result.detail = FAILED, "vCenter reported the clone, but no such VM exists"
            continue
        host = inv.by_ref(vm.get("runtime.host"))
        result.data.update({"host": host.name if host else None, "cpu": vm.get("config.hardware.numCPU"),
                            "memory_mb": vm.get("config.hardware.memoryMB"),
                            "power": vm.get("runtime.powerState")})
        result.detail += f" on {result.data['host']}"
        missing = clone_differences(vm, req, placement, host)
        if missing:
            result.status = FAILED
            result.detail += "; vCenter did not apply the clone spec: " + "; ".join(missing)


def clone_differences(vm: Obj, req: CloneRequest, placement, host: Obj | None) -> list[str]:
    """How a new VM differs from its request, as `what it has (asked ...)` lines."""
    out = []
    if host is None or host.moid != placement.host.moid:
        out.append(f"runs on {host.name if host else 'no host'} (asked {placement.host.name})")
    if req.cpu is not None and vm.get("config.hardware.numCPU") != req.cpu:
        out.append(f"{vm.get('config.hardware.numCPU')} vCPU (asked {req.cpu})")
    if req.memory_gb is not None and vm.get("config.hardware.memoryMB") != memory_mb(req.memory_gb):
        out.append(f"{vm.get('config.hardware.memoryMB')} MB memory (asked {memory_mb(req.memory_gb)})")
    if vm.get("config.template"):
        out.append("is a template (asked a virtual machine)")
    if placement.datastore is not None and \
            placement.datastore.moid not in {d._moId for d in vm.get("datastore") or []}:
        out.append(f"not on datastore {placement.datastore.name}")
    return out
