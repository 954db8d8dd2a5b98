"""`vgpu`: the vGPU profiles the VM's host offers; add and remove vGPUs."""
from __future__ import annotations

from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.devices.common import (append_device, devices, drop_device, full_memory, no_host, read,
                                             validated)
from vhpc_toolkit.ops.host_offers import check_vgpu, host_offers
from vhpc_toolkit.ops.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.results import QueryReport, Report, TargetResult
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.vgpu import vgpu_device, vgpu_profile

COLUMNS = [("profile", "profile"), ("free now", "free"), ("on this VM", "on_this_vm")]


def query_vgpu(session, targets) -> QueryReport:
    inv, vms, hosts = read(session, targets)
    offers = host_offers(session, inv, hosts.values())
    results = []
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            results.append(TargetResult(obj.name, detail=no_host(obj), data={"host": None, "profiles": []}))
            continue
        mine = [p for p in (vgpu_profile(d) for d in devices(obj)) if p]
        offer = offers[host.moid]
        # free now: vGPUs of that profile the host's GPUs can still start (one profile per GPU)
        profiles = [{"profile": p, "free": sum(g.free(p) for g in offer.gpus), "on_this_vm": p in mine}
                    for p in offer.vgpu_profiles]
        results.append(TargetResult(obj.name, detail=f"host {host.name}: {len(profiles)} vGPU profile(s)"
                                + (f"; this VM has {', '.join(mine)}" if mine else ""),
                                data={"host": host.name, "profiles": profiles, "vgpus": mine,
                                      "gpus": [g.to_dict() for g in offer.gpus]}))
    return QueryReport("vgpu query", results, rows_key="profiles", columns=COLUMNS)


def change_vgpu(session, targets, profile: str | None, add: bool) -> Report:
    if add and not profile:
        raise InputError("vgpu: --add needs --profile P (see `vgpu --query`)")
    inv, vms, hosts = read(session, targets)
    if not add:
        def build_remove(spec, obj, host):
            changes = []
            for dev in devices(obj):
                p = vgpu_profile(dev)
                if p and (profile is None or p == profile):
                    drop_device(spec, dev)
                    changes.append(Change("vgpu", p, None))
            return changes

        return apply_specs(session, "vgpu remove", plan_specs(inv, vms, build_remove),
                           unchanged=f"has no vGPU{' ' + profile if profile else ''}")

    offers = host_offers(session, inv, hosts.values())
    problems, warnings, ledgers = [], {}, {}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(no_host(obj))
            continue
        found = check_vgpu(obj.name, host.name, offers[host.moid], profile)
        problems += found
        if not found and profile not in {vgpu_profile(d) for d in devices(obj)}:
            # vSphere places a vGPU at power-on: say now if the host's GPUs could not take it.
            ledger = ledgers.setdefault(host.moid, offers[host.moid].vgpu_ledger())
            short = check_vgpu(obj.name, host.name, offers[host.moid], profile, ledger)
            if short:
                warnings[obj.moid] = [f"{s}; it will not power on until a GPU has room" for s in short]
    validated(problems)

    def build_add(spec, obj, host):
        changes = []
        if profile not in {vgpu_profile(d) for d in devices(obj)}:
            append_device(spec, vgpu_device(profile))
            changes.append(Change("vgpu", None, profile))
        return changes + full_memory(spec, obj, host)

    planned = plan_specs(inv, vms, build_add)
    for obj, _, result in planned:
        if obj.moid in warnings:
            result.data["warnings"] = warnings[obj.moid]
    return apply_specs(session, "vgpu add", planned,
                       unchanged=f"already has vGPU {profile} and full memory reservation")
