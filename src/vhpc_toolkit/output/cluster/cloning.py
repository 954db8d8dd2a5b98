"""How a create clones its VMs (cluster/cloning/run.py), in words for the plan and as JSON for the result."""
from __future__ import annotations

from collections import Counter

from rich.markup import escape

from vhpc_toolkit.cluster.cloning.plan import COPY, KEPT, TEMPLATE
from vhpc_toolkit.settings.admission import FULL, INSTANT, LINKED
from vhpc_toolkit.words import count, plural


def _n(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _template_lines(run, moid: str) -> list[str]:
    plan, model = run.plan, run.model
    template, host = run.templates[moid], run.templates[moid].get("runtime.host")
    steps = [s for s in plan.steps if s.source.template == moid]
    kinds = Counter(s.kind for s in steps if s.vm is not None)
    made = [s for s in steps if s.vm is None]
    kept = sum(1 for t, _ in run.kept if t == moid)
    what = ", ".join(count(n, f"{k} clone") for k, n in ((FULL, kinds[FULL]), (LINKED, kinds[LINKED]),
                                                      (INSTANT, kinds[INSTANT])) if n)
    where = run.hosts[host._moId].name if host is not None and host._moId in run.hosts else "an unknown host"
    lines = [f"{what} of {template.name} (on {where})"]
    if made:
        seeded = max(s.end for s in made) / model.duration(FULL)
        lines.append(f"  first, copies of {template.name} on {count(len(made), 'host')} ({_rounds(seeded)}), each then a "
                     "source for its host's VMs; they stay for later runs (cluster --destroy removes them)")
    if kept:
        lines.append(f"  copies of {template.name} on {count(kept, 'host')} from an earlier run serve as sources")
    sources = Counter(s.source.kind for s in steps if s.vm is not None)
    if sources[COPY] + sources[KEPT]:
        lines.append(f"  VMs cloned from a copy on their own host (4 at a time per host): {sources[COPY] + sources[KEPT]}; "
                     f"from the template: {sources[TEMPLATE]}")
    return lines


def _rounds(n: float) -> str:
    """``1 round``, ``1.5 rounds``."""
    return f"{_n(n)} {plural(1 if _n(n) == '1' else 2, 'round')}"


def describe(run) -> list[str]:
    """The plan in a few lines: what is cloned from what, in how many rounds, and how long."""
    plan, model = run.plan, run.model
    lines = []
    for moid in run.templates:
        lines += _template_lines(run, moid)
    per = model.host_units // model.full_clone_cost if model.host_units else None
    rounds, direct = plan.rounds(), plan.rounds(plan.direct)
    limit = (f"vCenter runs {per} full clones of one source at a time ({model.host_units} units per host, "
             f"{model.full_clone_cost} per side; to its own host {per // 2})") if per else "no per-host limit"
    lines.append(f"{limit}: {_rounds(rounds)} of a full clone in all"
                 + (f", against {_n(direct)} cloning everything from the template" if direct > rounds + 0.05 else ""))
    if model.clone_time:
        lines.append(f"estimated {duration(plan.finish)} at {duration(model.clone_time)} per full clone "
                     f"(clone_time: {model.clone_time_source})")
    else:
        lines.append("no estimate: the clone time is not known (set clone_time in vCenter.conf; a run measures it)")
    return lines


def render_cloning(run, console) -> None:
    """Shown before the confirmation, after the VM actions."""
    if run is None:
        return
    console.print("[bold]Cloning[/]")
    for line in describe(run):
        console.print(escape(line), highlight=False)
