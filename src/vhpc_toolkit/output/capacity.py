"""Render `view --capacity`: a row per host with what it can still give."""
from __future__ import annotations

from rich.markup import escape

from vhpc_toolkit.output.tables import common_domain, domain_note, render_table, short
from vhpc_toolkit.words import count


def _gpus(host: dict) -> str:
    if not host["gpus"]:
        return "-"
    lines = [f"{host['free_gpus']} of {count(len(host['gpus']), 'GPU')} free"]
    for g in host["gpus"]:
        model = (g.get("model") or "").upper() or g["name"]
        lines.append(f"{g['id']} {model}: " + (f"held by {g['held_by']}" if g["held_by"] else "free"))
    return escape("\n".join(lines))


def _room(room: dict[str, int]) -> str:
    """``grid_v100-: 32 x 1q, 16 x 2q`` (the profile's shared prefix said once)."""
    fits = [(q, n) for q, n in room.items() if n]
    if not fits:
        return "full"
    prefix = fits[0][0].rsplit("-", 1)[0] + "-" if all("-" in q for q, _ in fits) else ""
    if not all(q.startswith(prefix) for q, _ in fits):
        prefix = ""
    return "room " + ", ".join(f"{n} x {prefix}{q[len(prefix):]}" if i == 0 else f"{n} x {q[len(prefix):]}"
                               for i, (q, n) in enumerate(fits))


def _vgpus(host: dict) -> str:
    lines = []
    for g in host["vgpu_gpus"]:
        head = f"{g['id']} {(g.get('model') or '').upper()} {g['frame_buffer_gb']:g} GB"
        if g["sharing"]:
            head += f" {g['sharing']}"
        runs = f" runs {', '.join(g['vgpus'])} ({', '.join(g['vms'])}):" if g["vgpus"] else " idle:"
        lines += [head + runs, _room(g["room"])]
    return escape("\n".join(lines)) or "-"


def _vfs(host: dict) -> str:
    return escape("\n".join(f"{f['pf']}: {f['free']} of {f['virtual_functions']}" for f in host["sriov"])) or "-"


def render_capacity(doc: dict, console) -> None:
    """A table per cluster (standalone hosts last), a row per host, then the totals."""
    hosts = doc["hosts"]
    domain = common_domain([h["name"] for h in hosts])
    domain_note(console, domain)
    clusters: dict[str, list[dict]] = {}
    for h in hosts:
        clusters.setdefault(h["cluster"] or "", []).append(h)
    for cluster in sorted(clusters, key=lambda c: (not c, c)):
        rows = []
        for h in clusters[cluster]:
            mem = h["memory"]
            state = escape(h["problem"]) if h["problem"] else str(h["running_vms"])
            rows.append([f"[bold]{escape(short(h['name'], domain))}[/]", state,
                         f"{mem['unreserved_gb']:g} of {mem['total_gb']:g} GB", _gpus(h), _vgpus(h), _vfs(h)])
        render_table(console, f"Capacity of {cluster}" if cluster else "Capacity of standalone hosts",
                     ["host", "running VMs", "unreserved memory", "passthrough GPUs", "vGPU room per GPU",
                      "free SR-IOV virtual functions"], rows)
    if not hosts:
        console.print("no hosts", highlight=False)
        return
    t = doc["totals"]
    console.print(f"{count(len(hosts), 'host')}: {count(t['free_gpus'], 'free passthrough GPU')}, "
                  f"{count(t['free_virtual_functions'], 'free virtual function')}, "
                  f"{t['unreserved_memory_gb']:g} GB unreserved memory (hosts in maintenance or not connected "
                  f"not counted)", highlight=False)
