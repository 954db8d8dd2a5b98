"""`vgpu`: the vGPU profiles the VM's host offers (size, sharing mode, room per physical GPU); add
and remove vGPUs, several per VM."""
from __future__ import annotations

from collections import Counter

from vhpc_toolkit.errors import InputError, refuse_problems
from vhpc_toolkit.ops.devices.common import (append_device, devices, full_memory, no_host, query_offers, read,
                                             remove_devices)
from vhpc_toolkit.ops.hosts.offers import check_vgpus, host_offers
from vhpc_toolkit.ops.edits.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.results import QueryReport, Report
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.devices.vgpu import vgpu_device, vgpu_profile
from vhpc_toolkit.specs.devices.vgpu_catalog import mix_problem
from vhpc_toolkit.specs.devices.vgpu_profiles import parse_profile
from vhpc_toolkit.words import count

COLUMNS = [("profile", "profile"), ("size", "size"), ("sharing", "sharing"), ("free now", "free"),
           ("on this VM", "on_this_vm")]


def query_vgpu(session, targets) -> QueryReport:
    def describe(inv, obj, host, offer):
        mine = [p for p in (vgpu_profile(d) for d in devices(obj)) if p]
        # free now: vGPUs of that profile the host's GPUs can still start (one profile per GPU)
        profiles = [_row(p, offer, mine) for p in offer.vgpu_profiles]
        detail = count(len(profiles), "vGPU profile") + (f"; this VM has {', '.join(mine)}" if mine else "")
        return detail, {"profiles": profiles, "vgpus": mine, "gpus": [g.to_dict() for g in offer.gpus]}

    return query_offers(session, targets, "vgpu query", "profiles", COLUMNS, describe)


def _row(profile: str, offer, mine: list[str]) -> dict:
    """One profile of a host: its size and sharing mode (from its name), and how many more the host's
    GPUs can start now (vGPUs of powered-on VMs counted, per physical GPU)."""
    p = parse_profile(profile)
    size = ("%d GB" % (p.frame_buffer_mb // 1024) + (", %d slice%s" % (p.slices, "s" * (p.slices > 1)) if p.mig else "")) if p else "-"
    return {"profile": profile, "size": size, "sharing": p.sharing if p else "-",
            "free": sum(g.free(profile) for g in offer.gpus), "on_this_vm": profile in mine}


def change_vgpu(session, targets, profile, add: bool) -> Report:
    """Add (or remove) the vGPUs of ``profile``: one profile name or a list (several vGPUs per VM)."""
    profiles = [profile] if isinstance(profile, str) else list(profile or [])
    if add and not profiles:
        raise InputError("vgpu: --add needs --profile P [P ...] (see `vgpu --query`)")
    inv, vms, hosts = read(session, targets)
    if not add:
        def removed(dev):
            p = vgpu_profile(dev)
            return Change("vgpu", p, None) if p and (not profiles or p in profiles) else None

        return remove_devices(session, inv, vms, "vgpu remove", removed,
                              unchanged=f"has no vGPU{' ' + ', '.join(profiles) if profiles else ''}")

    offers = host_offers(session, inv, hosts.values())
    problems, warnings, ledgers = [], {}, {}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(no_host(obj))
            continue
        found = check_vgpus(obj.name, host.name, offers[host.moid], profiles)
        boards = {parse_profile(p).board if parse_profile(p) else p for p in profiles}
        final = [q for q in map(vgpu_profile, devices(obj)) if q] + _missing(obj, profiles)
        if len(boards) > 1:
            found.append(f"VM {obj.name}: the vGPUs of one VM are of one board, not {', '.join(profiles)}")
        elif mix_problem(final):
            found.append(f"VM {obj.name}: vGPUs {', '.join(final)}: {mix_problem(final)}")
        problems += found
        missing = _missing(obj, profiles)
        if not found and missing:
            # vSphere places vGPUs at power-on: say now if the host's GPUs could not take them.
            ledger = ledgers.setdefault(host.moid, offers[host.moid].vgpu_ledger())
            short = check_vgpus(obj.name, host.name, offers[host.moid], missing, ledger)
            if short:
                warnings[obj.moid] = [f"{s}; it will not power on until a GPU has room" for s in short]
    refuse_problems(problems)

    def build_add(spec, obj, host):
        changes = []
        for p in _missing(obj, profiles):
            append_device(spec, vgpu_device(p))
            changes.append(Change("vgpu", None, p))
        return changes + full_memory(spec, obj, host)

    planned = plan_specs(inv, vms, build_add)
    for obj, _, result in planned:
        if obj.moid in warnings:
            result.data["warnings"] = warnings[obj.moid]
    return apply_specs(session, "vgpu add", planned,
                       unchanged=f"already has vGPU {', '.join(profiles)} and full memory reservation")


def _missing(obj, profiles: list[str]) -> list[str]:
    """The asked vGPUs the VM does not have yet (``P P``: two of P)."""
    have = Counter(p for p in (vgpu_profile(d) for d in devices(obj)) if p)
    return list((Counter(profiles) - have).elements())
