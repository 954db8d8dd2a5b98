"""What the planner says when a file cannot fit: one line per shortage, naming what is short and where.

    cluster.conf:12: needs 16 V100 (gpu: 2 on 8 VMs, lines 12-13), 14 free on COMPUTE_GPU_Cluster:
        vhpc-esx-02 2, vhpc-esx-03 2, vhpc-esx-04 0 (in maintenance mode), ...

Pure code over the planner's host capacities (cluster/placement/capacity.py).
"""
from __future__ import annotations

from typing import Iterable

from vhpc_toolkit.specs.tuning import compact_ranges
from vhpc_toolkit.words import count


def short_host(name: str) -> str:
    """A host's name without its domain: vhpc-esx-05 for vhpc-esx-05.hpc.vmware.com."""
    return name.split(".", 1)[0] if name and not name[0].isdigit() else name


def host_list(names: Iterable[str], limit: int = 12) -> str:
    names = [short_host(n) for n in names]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", ... ({len(names)} hosts)"
    return ", ".join(names)


def lines_of(vms: Iterable) -> str:
    """``12-13, 20``: the file lines of some VMs, ranges joined."""
    return compact_ranges((vm.line for vm in vms), ", ")


def lines_text(vms) -> str:
    """``line 12`` or ``lines 12-13, 20``."""
    text = lines_of(vms)
    return ("lines " if ("," in text or "-" in text) else "line ") + text


def _per_host(caps: list, count) -> str:
    cells = [f"{short_host(c.name)} {count(c)}" + (f" ({c.problem})" if c.problem else "")
             for c in sorted(caps, key=lambda c: c.name)]
    if len(cells) > 16:
        busy = [cell for cell, c in zip(cells, sorted(caps, key=lambda c: c.name)) if count(c)]
        return ", ".join(busy[:16]) + f", ... ({len(cells) - len(busy)} of {len(cells)} hosts have none)"
    return ", ".join(cells)


def _groups(wanted: list) -> dict:
    """cluster moid -> (cluster Obj, [plans]) of the VMs the planner places."""
    out: dict = {}
    for p in wanted:
        cluster = p.placement.cluster
        if cluster is not None and not p.spec.host:
            out.setdefault(cluster.moid, (cluster, []))[1].append(p)
    return out


def shortage_problems(spec, caps: dict, wanted: list) -> list[str]:
    """One problem per resource the file's VMs (without ``host:``) need more of than a cluster has."""
    out = []
    for cluster, plans in _groups(wanted).values():
        members = {r._moId for r in cluster.get("host") or []}
        hosts = [c for c in caps.values() if c.host.moid in members]
        usable = [c for c in hosts if not c.problem]
        where = f"{spec.path}:{plans[0].spec.line}"
        kinds: dict = {}
        for p in plans:
            if p.spec.gpu:
                kinds.setdefault((p.spec.gpu_model, p.spec.gpu_label), []).append(p)
        for (model, label), ps in kinds.items():
            need = sum(p.spec.gpu for p in ps)
            free = sum(len(c.free_gpus(model, label)) for c in usable)
            if need > free:
                what = (model or "GPU") + (f" labelled {label}" if label else "")
                sizes = sorted({p.spec.gpu for p in ps})
                asks = f"gpu: {sizes[0]}" if len(sizes) == 1 else "gpu: " + "/".join(map(str, sizes))
                out.append(f"{where}: needs {need} {what} ({asks} on {count(len(ps), 'VM')}, {lines_text(p.spec for p in ps)}), "
                           f"{free} free on {cluster.name}: "
                           + _per_host(hosts, lambda c, m=model, lb=label: 0 if c.problem else len(c.free_gpus(m, lb))))
        profiles: dict = {}
        for p in plans:
            for q in p.spec.vgpus:
                profiles.setdefault(q, []).append(p)
        for profile, ps in profiles.items():
            need = len(ps)
            room = sum(c.ledger.room(profile) for c in usable)
            if need > room:
                out.append(f"{where}: needs {need} vGPU {profile} ({lines_text(p.spec for p in ps)}), room for "
                           f"{room} on {cluster.name}: "
                           + _per_host(hosts, lambda c, q=profile: 0 if c.problem else c.ledger.room(q)))
        groups: dict = {}
        for p in plans:
            if p.spec.anti_affinity:
                groups.setdefault(p.spec.anti_affinity, []).append(p)
        for group, ps in groups.items():
            free = [c for c in usable if group not in c.groups]
            if len(ps) > len(free):
                taken = [c.name for c in usable if group in c.groups]
                out.append(f"{where}: anti-affinity group {group} needs {len(ps)} more hosts "
                           f"({lines_text(p.spec for p in ps)}), {cluster.name} has {len(free)} that can take one"
                           + (f" ({len(taken)} already run a VM of the group: {host_list(taken)})" if taken else ""))
    return out
