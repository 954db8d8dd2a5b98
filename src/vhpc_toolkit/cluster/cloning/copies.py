"""Copies of a template that a cluster keeps on its hosts, as extra sources for its clones.

vCenter runs 8 full clones of one source at a time (settings/admission.py); a copy of the
template on another host is one more source (cluster/cloning/plan.py). A copy is a template made by
`cluster --create` with one CloneVM_Task, and marked in its extraConfig:

- ``vhpc_toolkit.owner``: the cluster's owner mark (cluster/ownership/owner.py): it is the
  cluster's, and `cluster --destroy` removes it (unless ``--keep-template-copies``);
- ``vhpc_toolkit.copy_of``: the template it copies, as ``INSTANCE-UUID@VERSION``, the version being
  the template's ``config.changeVersion`` (its ``config.modified`` where vCenter gives none): a copy
  of an older version of the template is stale, and replaced.

A later run of the file reuses its usable copies. The VMs cloned from a copy carry the file's
owner mark like any other, and not the copy key (their CloneSpec removes it).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vhpc_toolkit.cluster.ownership.owner import OWNER_KEY, Owner, vm_mark_of
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

COPY_KEY = "vhpc_toolkit.copy_of"
TEMPLATE_PROPS = ["config.instanceUuid", "config.changeVersion", "config.modified"]


def template_version(template: Obj) -> str:
    """What a copy records of its template: its instance UUID and version."""
    version = template.get("config.changeVersion") or template.get("config.modified")
    stamp = version.isoformat() if hasattr(version, "isoformat") else str(version or "")
    return f"{template.get('config.instanceUuid') or template.moid}@{stamp}"


def copy_of(vm: Obj) -> str | None:
    """The ``copy_of`` mark of a VM (read with ``config.extraConfig``), or None."""
    for opt in vm.get("config.extraConfig") or []:
        if opt.key == COPY_KEY:
            return str(opt.value) or None
    return None


def copy_name(template: str, host: str, owner: str, version: str) -> str:
    """A copy's VM name: the template's, the host's short name, and a digest of the owner and the
    template's version (two files, or two versions, never want the same name)."""
    digest = hashlib.sha1(f"{owner}|{version}".encode()).hexdigest()[:6]
    return f"{template}-copy-{host.split('.', 1)[0]}-{digest}"


def is_copy_name(name: str, templates: set[str]) -> bool:
    return any(name.startswith(f"{t}-copy-") for t in templates)


@dataclass
class FoundCopies:
    usable: dict[str, dict[str, Obj]]    # template moid -> host moid -> the copy there
    stale: list[Obj]                     # the file's copies of an older version of one of its templates


def find_copies(inv: Inventory, owner: Owner, templates: list[Obj]) -> FoundCopies:
    """The file's copies of these templates, by template and host (one per host is enough)."""
    by_uuid = {str(t.get("config.instanceUuid") or t.moid): t for t in templates}
    found = FoundCopies({}, [])
    for vm in inv.of_type("VirtualMachine"):
        mark = copy_of(vm)
        if mark is None or not owner.owns(vm_mark_of(vm)) or not vm.get("config.template"):
            continue
        template = by_uuid.get(mark.split("@", 1)[0])
        if template is None:      # a copy of a template the file no longer uses: --destroy removes it
            continue
        host = vm.get("runtime.host")
        if mark != template_version(template) or host is None:
            found.stale.append(vm)
        else:
            found.usable.setdefault(template.moid, {}).setdefault(host._moId, vm)
    return found


def owned_copies(inv: Inventory, owner: Owner) -> list[Obj]:
    """Every copy the cluster made (for `cluster --destroy`; read with ``config.extraConfig`` and
    ``config.template``). A copy is a template: a VM cloned by hand from one carries its marks too
    (vSphere copies extraConfig into a clone) and is not the cluster's to destroy."""
    return sorted((vm for vm in inv.of_type("VirtualMachine")
                   if copy_of(vm) and vm.get("config.template") and owner.owns(vm_mark_of(vm))),
                  key=lambda vm: vm.name)


def copy_spec(owner: str, version: str, host, pool, datastore=None):
    """The CloneSpec of a copy: a template on ``host``, marked as the file's copy of its template."""
    from pyVmomi import vim

    marks = [vim.option.OptionValue(key=OWNER_KEY, value=owner), vim.option.OptionValue(key=COPY_KEY, value=version)]
    return vim.vm.CloneSpec(location=vim.vm.RelocateSpec(host=host, pool=pool, datastore=datastore),
                            config=vim.vm.ConfigSpec(extraConfig=marks), template=True, powerOn=False)
