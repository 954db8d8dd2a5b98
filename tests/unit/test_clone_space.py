"""The datastore check counts what a create writes: each full clone and each copy of the template it
makes as a clone source, the size of the template's committed storage (cluster/planning/space.py)."""
from __future__ import annotations

from types import SimpleNamespace as NS

from vhpc_toolkit.cluster.planning.space import GB, space_problems


class Ref:
    def __init__(self, moid):
        self._moId = moid


class Obj:
    def __init__(self, moid, name, **props):
        self.moid, self.name, self.props = moid, name, props
        self.ref = Ref(moid)

    def get(self, path, default=None):
        return self.props.get(path, default)


DS = Obj("ds-1", "vsan", **{"summary.freeSpace": 100 * GB})
TEMPLATE = Obj("vm-1", "vhpc_clone", **{"summary.storage.committed": 10 * GB, "datastore": [DS.ref]})
INV = NS(by_ref=lambda ref: {"ds-1": DS}.get(ref._moId))


def vm(linked=False, datastore=DS):
    return NS(action="create", placement=NS(datastore=datastore), template=TEMPLATE,
              spec=NS(instant=None, linked=linked))


def copies(n):
    return NS(copies={i: NS(first=vm(), template=TEMPLATE) for i in range(n)})


def test_clones_and_copies_that_fit():
    assert space_problems(NS(vms=[vm() for _ in range(8)], inv=INV), copies(2)) == []


def test_the_copies_count():
    problems = space_problems(NS(vms=[vm() for _ in range(8)], inv=INV), copies(3))
    assert problems == ["datastore vsan: this run writes about 110 GB (8 full clones and 3 copies of the "
                        "template as clone sources), it has 100 GB free"]


def test_linked_clones_write_nothing_yet_and_the_templates_datastore_is_the_default():
    plan = NS(vms=[vm(linked=True) for _ in range(50)] + [vm(datastore=None) for _ in range(11)], inv=INV)
    assert space_problems(plan, None) == ["datastore vsan: this run writes about 110 GB (11 full clones), "
                                          "it has 100 GB free"]
