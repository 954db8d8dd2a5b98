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


def relocate_spec(host, pool=None):
    """Where RelocateVM_Task moves a VM: ``host``, and ``pool`` when the host is in another cluster."""
    from pyVmomi import vim

    return vim.vm.RelocateSpec(host=host, pool=pool)


def instant_clone_spec(name: str, pool=None, datastore=None, folder=None, options=None):
    """An InstantClone_Task spec: a fork of a running VM. Its location takes folder, datastore and pool
    only (and adapter edits): the clone runs on its source's host, which vSphere does not let one choose.
    ``options`` (key -> value) become the clone's extraConfig (e.g. guestinfo.* for the guest to read)."""
    from pyVmomi import vim

    config = [vim.option.OptionValue(key=k, value=v) for k, v in (options or {}).items()]
    return vim.vm.InstantCloneSpec(name=name, config=config or None,
                                   location=vim.vm.RelocateSpec(pool=pool, datastore=datastore, folder=folder))
