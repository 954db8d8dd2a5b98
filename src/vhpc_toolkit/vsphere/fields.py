"""Custom attributes (vCenter's CustomFieldsManager): field definitions and values on entities.

A field is defined once for the whole vCenter (AddCustomFieldDef; a second definition of
one name is refused with DuplicateName, which makes a definition usable as a lock) and
holds one string value per entity (SetField). Values are read with the entity's
``customValue`` property, in the same PropertyCollector read as everything else.
"""
from __future__ import annotations

from typing import Any

from vhpc_toolkit.vsphere.inventory import Obj, read_objects

VALUE_PROP = "customValue"
# An entity's values and the definitions valid for its type (their names by key), in the same read.
MARK_PROPS = (VALUE_PROP, "availableField")


def manager(session):
    """The CustomFieldsManager, or None (ESXi without vCenter has none)."""
    return getattr(session.content, "customFieldsManager", None)


class _Unreadable(dict):
    """No field definitions could be read (the server answers malformed ones): empty, and says so."""


UNREADABLE = _Unreadable()


def field_keys(session) -> dict[str, int]:
    """Every field's key by name, in one read."""
    mgr = manager(session)
    if mgr is None:
        return {}
    try:
        found = read_objects(session, [mgr], ["field"]).get(mgr._moId)
    except TypeError:   # definitions lacking what vSphere's hold (the stock simulator's): none usable
        return UNREADABLE
    return {f.name: f.key for f in (found.get("field") if found else None) or []}


def add_field(session, name: str, mo_type: str | None = None) -> int:
    """Define field ``name`` for entities of type ``mo_type`` (e.g. "Datacenter"; None: every type, which
    puts the field on every object in the vSphere Client); vim.fault.DuplicateName if it exists."""
    from pyVmomi import vim

    kind = getattr(vim, mo_type) if mo_type else None
    return manager(session).AddCustomFieldDef(name=name, moType=kind).key


def ensure_field(session, name: str, keys: dict[str, int] | None = None, mo_type: str | None = None) -> int:
    """The key of field ``name``, defining it when missing (a concurrent definition is fine)."""
    from pyVmomi import vim

    keys = field_keys(session) if keys is None else keys
    if name in keys:
        return keys[name]
    try:
        return add_field(session, name, mo_type)
    except vim.fault.DuplicateName:
        return field_keys(session)[name]


def remove_field(session, key: int) -> None:
    manager(session).RemoveCustomFieldDef(key=key)


def set_value(session, entity: Any, key: int, value: str) -> None:
    manager(session).SetField(entity=entity, key=key, value=value)


def field_names(objs) -> dict[int, str]:
    """Field names by key from the ``availableField`` of objects read with MARK_PROPS."""
    return {f.key: f.name for o in objs for f in (o.get("availableField") or [])}


def is_no_permission(exc: BaseException) -> bool:
    """Whether a call failed for a privilege the user lacks (vim.fault.NoPermission, whose
    ``privilegeId`` names it)."""
    from pyVmomi import vim

    return isinstance(exc, vim.fault.NoPermission) and not isinstance(exc, vim.fault.NotAuthenticated)


def value_of(obj: Obj | None, key: int | None) -> str | None:
    """An entity's value of field ``key`` (read with VALUE_PROP), or None."""
    if obj is None or key is None:
        return None
    for v in obj.get(VALUE_PROP) or []:
        if v.key == key:
            return getattr(v, "value", None)
    return None
