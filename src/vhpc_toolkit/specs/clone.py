"""The CloneSpec: where the clone goes, and everything it carries (config, customization, power)."""
from __future__ import annotations

LINKED_DISK_MOVE = "createNewChildDiskBacking"


def clone_spec(host=None, pool=None, datastore=None, linked: bool = False, snapshot=None,
               config=None, customization=None, power_on: bool = False):
    from pyVmomi import vim

    if linked and snapshot is None:
        raise ValueError("a linked clone needs the template's snapshot")
    location = vim.vm.RelocateSpec(host=host, pool=pool, datastore=datastore)
    if linked:
        location.diskMoveType = LINKED_DISK_MOVE
    return vim.vm.CloneSpec(location=location, template=False, powerOn=power_on,
                            snapshot=snapshot if linked else None, config=config,
                            customization=customization)
