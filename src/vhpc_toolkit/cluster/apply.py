"""Apply a cluster plan: switches, then one CloneVM_Task per new VM (bounded per host and in
total), reconfigure/power existing ones, wait for guest IPs, and report every VM."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from vhpc_toolkit.cluster.build import build_clone_spec
from vhpc_toolkit.cluster.plan import CREATE, DRIFT, NOTHING, RECONFIGURE, ClusterPlan, VMPlan
from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.ops.clone import template_snapshot
from vhpc_toolkit.ops.networks import PROPS as NETWORK_PROPS, find_portgroup
from vhpc_toolkit.ops.placement import ref_of
from vhpc_toolkit.ops.results import CHANGED, VMResult
from vhpc_toolkit.ops.runner import Interrupted, Job, run_jobs
from vhpc_toolkit.vsphere.guestinfo import wait_for_ips
from vhpc_toolkit.vsphere.inventory import read_inventory


@dataclass
class ApplyOptions:
    max_concurrency: int = 32
    max_per_host: int = 8
    ip_timeout: float = 300.0
    rollback: bool = False
    password_for: Callable | None = None   # guest passwords for post scripts (ops.post.password_source)


@dataclass
class VMOutcome:
    name: str
    host: str | None = None
    action: str = NOTHING
    status: str = "up to date"        # created | reconfigured | powered on | up to date | drift | failed | rolled back
    ip: str | None = None
    devices: list[str] = field(default_factory=list)
    detail: str = ""
    ref: Any = None

    def to_dict(self) -> dict:
        return {"name": self.name, "host": self.host, "action": self.action, "status": self.status,
                "ip": self.ip, "devices": self.devices, "detail": self.detail}


@dataclass
class ClusterResult:
    switches: list[dict]
    vms: list[VMOutcome]
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False
    post: Any = None                       # ops.post.PostReport when scripts ran

    @property
    def post_failed(self) -> bool:
        return self.post is not None and not self.post.ok

    @property
    def failed(self) -> list[VMOutcome]:
        return [v for v in self.vms if v.status in ("failed", "rolled back")] + \
            [s for s in self.switches if s["status"] == "failed"]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for v in self.vms:
            counts[v.status] = counts.get(v.status, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return f"{len(self.vms)} VM(s): {parts}"

    @property
    def up_to_date(self) -> bool:
        return all(v.status in ("up to date", "drift") for v in self.vms) and \
            all(s["status"] == "up to date" for s in self.switches)

    def to_dict(self) -> dict:
        return {"up_to_date": self.up_to_date, "switches": self.switches, "vms": [v.to_dict() for v in self.vms],
                "post": self.post.to_dict() if self.post is not None else None,
                "notes": self.notes, "summary": self.summary()}


def _devices(plan: VMPlan) -> list[str]:
    vm = plan.spec
    out = [f"gpu {d}" for d in vm.device or []]
    if vm.vgpu:
        out.append(f"vgpu {vm.vgpu}")
    if vm.sriov_port_group:
        out.append(f"sriov {vm.sriov_port_group}")
    if vm.pvrdma_port_group:
        out.append(f"pvrdma {vm.pvrdma_port_group}")
    return out


def current_state(plan: ClusterPlan) -> ClusterResult:
    """The result of a run with nothing to do: every VM as it is, with its IP and any drift."""
    switches = [{"name": s.spec.name, "kind": s.spec.kind, "hosts": list(s.spec.host),
                 "port_group": s.spec.port_group, "status": "up to date", "detail": s.detail}
                for s in plan.switches]
    vms = []
    for p in plan.vms:
        vms.append(VMOutcome(name=p.name, host=p.host_name(plan.snap), action=p.action, devices=_devices(p),
                             status="drift" if p.drift else "up to date", detail="; ".join(p.drift),
                             ip=p.existing.get("guest.ipAddress") if p.existing else None))
    return ClusterResult(switches, vms)


def apply_switches(session, plan: ClusterPlan, on_event=None) -> list[dict]:
    rows = []
    for sp in plan.switches:
        sw = sp.spec
        row = {"name": sw.name, "kind": sw.kind, "hosts": list(sw.host), "port_group": sw.port_group,
               "status": "up to date", "detail": sp.detail}
        if sp.action == "create":
            from vhpc_toolkit.ops.switches import create_dvs, create_svs

            if sw.kind == "svs":
                report = create_svs(session, sw.name, sw.host, sw.pnic[0] if sw.pnic else None, sw.port_group)
            else:
                report = create_dvs(session, sw.name, sw.host, sw.pnic, sw.port_group, sw.datacenter)
            failed = [r for r in report.results if r.failed]
            row["status"] = "failed" if failed else "created"
            # What --rollback may remove: only what this run made.
            row["created_hosts"] = [r.vm for r in report.results if r.status == CHANGED] if sw.kind == "svs" else []
            row["new"] = not sp.exists
            row["detail"] = "; ".join(f"{r.vm}: {r.detail}" for r in failed) or report.summary()
        rows.append(row)
        if on_event:
            on_event("switch", row)
    return rows


def apply_plan(session, plan: ClusterPlan, options: ApplyOptions, offers: dict,
               on_event: Callable[[str, Any], None] | None = None) -> ClusterResult:
    snap = plan.snap
    plans = {p.name: p for p in plan.vms}
    outcomes = {p.name: VMOutcome(name=p.name, host=p.host_name(snap), action=p.action, devices=_devices(p),
                                  ref=p.existing.ref if p.existing else None) for p in plan.vms}
    switch_rows = apply_switches(session, plan, on_event)
    if any(r["status"] == "failed" for r in switch_rows):
        for o in outcomes.values():
            if o.action == CREATE:
                o.status, o.detail = "failed", "not created: a switch of the file could not be created"
        return ClusterResult(switch_rows, list(outcomes.values()))

    def event(result: VMResult):
        out, p = outcomes[result.vm], plans[result.vm]
        if result.failed:
            out.status, out.detail = "failed", result.detail
        elif p.action == CREATE:
            out.status, out.detail = "created", "cloned" + (" and powered on" if p.spec.power == "on" else "")
        else:
            out.status, out.detail = "reconfigured", "; ".join(str(c) for c in p.changes)
        if on_event:
            on_event("vm", out)

    try:
        jobs = _clone_jobs(session, plan, offers, outcomes, switch_rows)
        _power_off_to_resize(session, plan, outcomes, options)
        jobs += [Job(result=VMResult(p.name), key=_host_key(p.existing),
                     start=lambda p=p: p.existing.ref.ReconfigVM_Task(spec=p.config_spec))
                 for p in plan.vms if p.action == RECONFIGURE and p.config_spec is not None
                 and outcomes[p.name].status != "failed"]
        run_jobs(session, jobs, concurrency=options.max_concurrency, per_key=options.max_per_host, on_event=event)
        _power_on_existing(session, plan, outcomes, options)
    except (Interrupted, KeyboardInterrupt) as exc:
        for r in getattr(exc, "cancelled", []):
            outcomes[r.vm].status, outcomes[r.vm].detail = "failed", r.detail
        return _interrupted(session, plan, switch_rows, outcomes)

    for p in plan.vms:
        out = outcomes[p.name]
        if p.action == DRIFT and out.status == "up to date":
            out.status, out.detail = "drift", "; ".join(p.drift)
        elif p.drift and out.status != "failed":
            out.detail = "; ".join(filter(None, [out.detail] + p.drift))

    # Guest IPs: every VM that should be running, in one wait with one timeout.
    running = [o for p, o in ((p, outcomes[p.name]) for p in plan.vms)
               if p.spec.power == "on" and o.status != "failed" and o.ref is not None]
    if running:
        ips = wait_for_ips(session, [o.ref for o in running], options.ip_timeout)
        for o in running:
            o.ip = ips[o.ref._moId]["ip"]
    result = ClusterResult(switch_rows, [outcomes[p.name] for p in plan.vms])
    missing_ip = [o.name for o in running if not o.ip]
    if missing_ip:
        result.notes.append(f"no guest IP within {options.ip_timeout:.0f}s: {', '.join(missing_ip)}")
    if not result.failed:
        run_post_scripts(session, plan, result, options)
    elif any(p.spec.scripts for p in plan.vms if p.action == CREATE):
        result.notes.append("post scripts not run: a VM of the cluster failed")
    if options.rollback and (result.failed or result.post_failed):
        rollback(session, result)
    return result


def run_post_scripts(session, plan: ClusterPlan, result: ClusterResult, options: ApplyOptions) -> None:
    """Scripts by barrier on the VMs this run created (a re-run does not repeat them)."""
    from vhpc_toolkit.ops.post import run_barriers

    created = {v.name for v in result.vms if v.status == "created"}
    phases = [(barrier, [(vm, step) for vm, step in pairs if vm.name in created])
              for barrier, pairs in plan.spec.script_phases()]
    phases = [(b, pairs) for b, pairs in phases if pairs]
    if not phases:
        return
    try:
        result.post = run_barriers(session, phases, options.password_for)
    except VhpcError as exc:
        result.notes.append(f"post scripts not run: {exc}")
        for v in result.vms:
            if v.name in {vm.name for _, pairs in phases for vm, _ in pairs}:
                v.status, v.detail = "failed", f"post scripts not run: {exc}"
        return
    for run in result.post.failed:
        out = next(v for v in result.vms if v.name == run.vm)
        out.detail += f"; script {run.script} failed"


def _host_key(vm) -> str:
    host = vm.get("runtime.host")
    return host._moId if host is not None else ""


def _clone_jobs(session, plan: ClusterPlan, offers: dict, outcomes: dict, switch_rows) -> list[Job]:
    """One CloneVM_Task job per new VM; a VM whose spec cannot be built fails alone."""
    snap = plan.snap
    # Port groups made just now are only known after the switches exist: read networks again.
    net_snap = read_inventory(session, {k: list(v) for k, v in NETWORK_PROPS.items()}) \
        if any(r["status"] == "created" for r in switch_rows) else snap
    jobs, snapshots = [], {}
    for p in (p for p in plan.vms if p.action == CREATE):
        out = outcomes[p.name]
        dc = snap.ancestor(p.placement.host, "Datacenter")

        def find_pg(name, dvs_name, dc=dc):
            return find_portgroup(net_snap, name, net_snap.by_ref(dc.ref) if dc else None, dvs_name)

        try:
            snapshot_ref = None
            if p.spec.linked:
                if p.template.moid not in snapshots:
                    snapshots[p.template.moid] = template_snapshot(session, p.template)
                snapshot_ref = snapshots[p.template.moid]
            spec = build_clone_spec(p, snap, offers.get(p.placement.host.moid), find_pg, snapshot_ref)
        except (VhpcError, ValueError, KeyError) as exc:
            out.status, out.detail = "failed", f"clone spec: {exc}"
            continue

        def created(vm_ref, out=out):
            out.ref = vm_ref

        jobs.append(Job(result=VMResult(p.name), key=p.placement.host.moid, on_success=created,
                        start=lambda p=p, spec=spec: p.template.ref.CloneVM_Task(
                            folder=ref_of(p.placement.folder), name=p.name, spec=spec)))
    return jobs


def _power_off_to_resize(session, plan: ClusterPlan, outcomes: dict, options: ApplyOptions) -> None:
    """Running VMs whose cpu/memory must change (only with --allow-power-off) are powered off first."""
    cycle = [Job(result=VMResult(p.name), start=p.existing.ref.PowerOffVM_Task)
             for p in plan.vms if p.action == RECONFIGURE and p.power_cycle]
    run_jobs(session, cycle, concurrency=options.max_concurrency)
    for job in cycle:
        if job.result.failed:
            outcomes[job.result.vm].status = "failed"
            outcomes[job.result.vm].detail = f"power off for resize: {job.result.detail}"


def _power_on_existing(session, plan: ClusterPlan, outcomes: dict, options: ApplyOptions) -> None:
    """Existing VMs the file wants on (and those powered off to be resized)."""
    jobs = [Job(result=VMResult(p.name), start=p.existing.ref.PowerOnVM_Task) for p in plan.vms
            if p.power_on and (outcomes[p.name].status != "failed" or p.power_cycle)]
    run_jobs(session, jobs, concurrency=options.max_concurrency)
    for job in jobs:
        out = outcomes[job.result.vm]
        if job.result.failed:
            out.status, out.detail = "failed", f"power on: {job.result.detail}"
        else:
            out.detail = (out.detail + "; " if out.status == "reconfigured" else "") + "powered on"
            if out.status != "reconfigured":
                out.status = "powered on"


def _interrupted(session, plan: ClusterPlan, switch_rows, outcomes) -> ClusterResult:
    """After Ctrl-C: give cancelled tasks a moment, then say exactly which VMs of the file exist."""
    import time

    time.sleep(2)
    snap = read_inventory(session, {"VirtualMachine": ["runtime.powerState"]})
    present = {o.name: o for o in snap.of_type("VirtualMachine")}
    for p in plan.vms:
        out = outcomes[p.name]
        if p.action != CREATE:
            continue
        if p.name in present:
            out.ref = present[p.name].ref
            if out.status != "created":
                out.status = "failed"
                out.detail = f"interrupted; the VM exists ({present[p.name].get('runtime.powerState')})"
        else:
            out.status, out.detail = "failed", "interrupted; not created"
    result = ClusterResult(switch_rows, [outcomes[p.name] for p in plan.vms])
    result.interrupted = True
    result.notes.append("interrupted: the table says which VMs exist; run --create again to finish, "
                        "or --destroy to remove them")
    return result


def rollback(session, result: ClusterResult) -> None:
    """Destroy what this run created (after something failed)."""
    created = [o for o in result.vms if o.status == "created" and o.ref is not None]
    off = [Job(result=VMResult(o.name), start=o.ref.PowerOffVM_Task) for o in created]
    run_jobs(session, off)
    gone = [Job(result=VMResult(o.name), start=o.ref.Destroy_Task) for o in created]
    run_jobs(session, gone)
    for o, job in zip(created, gone):
        if job.result.failed:
            o.detail += f"; rollback failed: {job.result.detail}"
        else:
            o.status, o.detail, o.ip = "rolled back", "created, then destroyed by --rollback", None
    result.notes.append(f"--rollback destroyed {sum(not j.result.failed for j in gone)} VM(s) created by this run")
    for row in result.switches:
        if row["status"] != "created":
            continue
        from vhpc_toolkit.ops.switches import destroy_dvs, destroy_svs

        if row["kind"] == "svs" and row.get("created_hosts"):
            report = destroy_svs(session, row["name"], row["created_hosts"])
        elif row["kind"] == "dvs" and row.get("new"):
            report = destroy_dvs(session, row["name"])
        else:
            result.notes.append(f"--rollback left switch {row['name']}: it existed before this run")
            continue
        row["status"] = "failed" if report.failed else "rolled back"
        row["detail"] = report.summary()
