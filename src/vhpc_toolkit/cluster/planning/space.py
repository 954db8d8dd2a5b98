"""Room on the datastores for what a create writes: its full clones, and the copies of a template it
makes as clone sources (cluster/cloning/run.py), each about as large as its source.

A clone writes what its source holds on its datastore (``summary.storage.committed``: a thin disk
counts what it uses, a thick one what it reserves); a linked or an instant clone writes a delta disk
that starts empty, counted as nothing. The sum per datastore must fit in its ``summary.freeSpace``
(vCenter fails a clone that runs out of space only once it is copying, with a VM half made).
"""
from __future__ import annotations

from collections import defaultdict

from vhpc_toolkit import words
from vhpc_toolkit.settings.admission import FULL

GB = 1024 ** 3


def _datastore(inv, placement, template):
    """Where a clone lands: the file's datastore, else its source's first one."""
    if placement.datastore is not None:
        return placement.datastore
    refs = template.get("datastore") or []
    return inv.by_ref(refs[0]) if refs else None


def space_problems(plan, run) -> list[str]:
    """One line per datastore this run would overfill; none when the sizes are unknown."""
    from vhpc_toolkit.cluster.cloning.run import kind_of
    from vhpc_toolkit.cluster.planning.plan import CREATE

    need: dict[str, int] = defaultdict(int)
    count: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    stores = {}
    wanted = [(p.placement, p.template, 0) for p in plan.vms
              if p.action == CREATE and p.placement is not None and p.template is not None and kind_of(p) == FULL]
    wanted += [(c.first.placement, c.template, 1) for c in (run.copies.values() if run is not None else [])]
    for placement, template, is_copy in wanted:
        ds = _datastore(plan.inv, placement, template)
        size = template.get("summary.storage.committed") or 0
        if ds is None or not size:
            continue
        stores[ds.moid] = ds
        need[ds.moid] += size
        count[ds.moid][is_copy] += 1
    out = []
    for moid, bytes_ in sorted(need.items()):
        free = stores[moid].get("summary.freeSpace")
        if free is not None and bytes_ > free:
            clones, copies = count[moid]
            out.append(f"datastore {stores[moid].name}: this run writes about {bytes_ / GB:.0f} GB "
                       f"({words.count(clones, 'full clone')}"
                       + (f" and {words.count(copies, 'copy')} of the template as clone sources" if copies else "")
                       + f"), it has {free / GB:.0f} GB free")
    return out
