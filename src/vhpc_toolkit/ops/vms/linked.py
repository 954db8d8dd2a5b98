"""The snapshot a linked clone starts from.

vSphere makes a linked clone (diskMoveType createNewChildDiskBacking) only from a snapshot of its
source, and a template is immutable: it cannot be snapshotted. So a template used for linked clones
must carry its snapshot already (the clone starts from its current snapshot); a template without one
is refused before anything changes, with the fix. A source that is an ordinary VM may be snapshotted
by the run (once, before its clones), and the plan says so.
"""
from __future__ import annotations

from vhpc_toolkit.vsphere.inventory import Obj
from vhpc_toolkit.vsphere.tasks import wait_for_task

SNAPSHOT_NAME = "vhpc-linked-clone-base"


def _name_of(tree, ref) -> str | None:
    for node in tree or []:
        if node.snapshot == ref:
            return node.name
        found = _name_of(node.childSnapshotList, ref)
        if found:
            return found
    return None


def current_snapshot(source: Obj):
    """(reference, name) of the source's current snapshot, or (None, None). Reads ``snapshot``."""
    info = source.get("snapshot")
    if info is None or info.currentSnapshot is None:
        return None, None
    return info.currentSnapshot, _name_of(info.rootSnapshotList, info.currentSnapshot) or info.currentSnapshot._moId


def linked_problem(source: Obj) -> str | None:
    """Why ``source`` cannot give linked clones (a template without a snapshot), with the fix; or None."""
    if current_snapshot(source)[0] is not None or not source.get("config.template"):
        return None
    name = source.name
    return (f"template {name} has no snapshot, and a linked clone starts from one (a template cannot be "
            f"snapshotted): mark it as a virtual machine, take a snapshot, mark it as a template again "
            f"(govc vm.markasvm -pool POOL {name}; govc snapshot.create -vm {name} base; "
            f"govc vm.markastemplate {name}), or clone without linked")


def linked_note(source: Obj) -> str:
    """What a linked clone of ``source`` starts from, for the plan and the report."""
    _, name = current_snapshot(source)
    if name is not None:
        return f"from snapshot {name} of {source.name}"
    return f"a snapshot {SNAPSHOT_NAME} of VM {source.name} is taken first (it is not a template)"


def base_snapshot(session, source: Obj):
    """The snapshot to clone from: the current one, or (a VM that is not a template) a new one."""
    ref, _ = current_snapshot(source)
    if ref is not None:
        return ref
    task = source.ref.CreateSnapshot_Task(name=SNAPSHOT_NAME, description="base of vhpc_toolkit linked clones",
                                          memory=False, quiesce=False)
    return wait_for_task(session, task, what=f"snapshot of VM {source.name}")
