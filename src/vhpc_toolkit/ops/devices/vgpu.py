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

COLUMNS = [("profile", "profile"), ("on this VM", "on_this_vm")]


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
        profiles = [{"profile": p, "on_this_vm": p in mine} for p in offers[host.moid].vgpu_profiles]
        results.append(TargetResult(obj.name, detail=f"host {host.name}: {len(profiles)} vGPU profile(s)"
                                + (f"; this VM has {', '.join(mine)}" if mine else ""),
                                data={"host": host.name, "profiles": profiles, "vgpus": mine}))
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
    problems = []
    for obj in vms:
        host = hosts[obj.moid]
        problems += [no_host(obj)] if host is None else check_vgpu(obj.name, host.name, offers[host.moid], profile)
    validated(problems)

    def build_add(spec, obj, host):
        changes = []
        if profile not in {vgpu_profile(d) for d in devices(obj)}:
            append_device(spec, vgpu_device(profile))
            changes.append(Change("vgpu", None, profile))
        return changes + full_memory(spec, obj, host)

    return apply_specs(session, "vgpu add", plan_specs(inv, vms, build_add),
                       unchanged=f"already has vGPU {profile} and full memory reservation")
