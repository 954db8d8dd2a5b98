"""The inventory as one PropertyCollector read.

A container view over the root folder plus one RetrievePropertiesEx (paged)
returns every object of the asked types with the asked properties. Nothing
here reads an attribute of a managed object: each such read is a round trip.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from vhpc_toolkit import audit
from vhpc_toolkit.errors import Ambiguous, NotFound
from vhpc_toolkit.vsphere.session import free

PAGE_SIZE = 1000

# Properties every read includes: enough to name objects and build paths.
BASE_PROPS = ("name", "parent")


@dataclass
class Obj:
    """One managed object as read: its reference, type name and properties."""

    ref: Any
    type: str
    props: dict[str, Any]

    @property
    def moid(self) -> str:
        return self.ref._moId

    @property
    def name(self) -> str:
        return self.props.get("name", self.moid)

    def get(self, path: str, default=None):
        return self.props.get(path, default)


@dataclass
class Inventory:
    """The objects of one read, by moid, with lookups by type, reference, name or path."""

    objects: dict[str, Obj] = field(default_factory=dict)
    asked: dict[str, list[str]] = field(default_factory=dict)   # type name -> property paths read
    # Lookups are repeated for every VM of a cluster file: kept, so a plan costs O(VMs + inventory),
    # not O(VMs x inventory). Rebuilt when objects were added or removed since.
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def cached(self, key, make):
        """``make()``, computed once per key for this inventory (derived indexes, lookups)."""
        if self._memo.get("size") != len(self.objects):
            self._memo.clear()
            self._memo["size"] = len(self.objects)
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def without(self, moids: set[str]) -> "Inventory":
        """The same read less some objects (e.g. the VMs a run destroys before it places others)."""
        return Inventory({k: o for k, o in self.objects.items() if k not in moids}, self.asked)

    def of_type(self, *types: str) -> list[Obj]:
        return list(self.cached(("of_type", types), lambda: [o for o in self.objects.values() if o.type in types]))

    def by_ref(self, ref) -> Obj | None:
        return None if ref is None else self.objects.get(ref._moId)

    def parent(self, obj: Obj) -> Obj | None:
        return self.by_ref(obj.get("parent"))

    def ancestor(self, obj: Obj, *types: str) -> Obj | None:
        node = self.parent(obj)
        while node is not None and node.type not in types:
            node = self.parent(node)
        return node

    def path(self, obj: Obj) -> str:
        """Inventory path as vSphere shows it, e.g. /HPC_Datacenter/vm/node1."""
        names = []
        node: Obj | None = obj
        while node is not None:
            if node.get("parent") is None:  # the root folder has no name in paths
                break
            names.append(node.name)
            node = self.parent(node)
        return "/" + "/".join(reversed(names))

    def find(self, types: str | Iterable[str], name: str, what: str | None = None,
             within: Obj | None = None) -> Obj:
        """The one object of those types with that name (or inventory path).

        No match: NotFound suggesting near names. Several: Ambiguous listing paths.
        ``within`` restricts the search to descendants of an object (a datacenter).
        """
        types = (types,) if isinstance(types, str) else tuple(types)
        return self.cached(("find", types, name, within.moid if within is not None else None),
                           lambda: self._find(types, name, what or types[0], within))  # failures not kept

    def _find(self, types: tuple[str, ...], name: str, what: str, within: Obj | None) -> Obj:
        candidates = self.of_type(*types)
        if within is not None:
            candidates = [o for o in candidates if self.is_under(o, within)]
        if name.startswith("/"):
            matches = [o for o in candidates if self.path(o) == name.rstrip("/")]
        else:
            matches = [o for o in candidates if o.name == name]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            names = sorted({o.name for o in candidates})
            near = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            scope = f" in {within.name}" if within is not None else ""
            raise NotFound(f"{what} {name!r} not found{scope}{hint}")
        paths = ", ".join(sorted(self.path(o) for o in matches))
        raise Ambiguous(f"{what} name {name!r} matches {len(matches)} objects: {paths}; "
                        "give an inventory path instead")

    def is_under(self, obj: Obj, ancestor: Obj) -> bool:
        node = self.parent(obj)
        while node is not None:
            if node.moid == ancestor.moid:
                return True
            node = self.parent(node)
        return False


def retrieve(session, spec) -> Iterator[Obj]:
    """Every object a FilterSpec selects, with its properties: RetrievePropertiesEx, paged.

    Calls: RetrievePropertiesEx (+1 ContinueRetrievePropertiesEx per extra page).
    """
    from pyVmomi import vmodl

    collector = session.content.propertyCollector
    result = collector.RetrievePropertiesEx(specSet=[spec],
                                            options=vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=PAGE_SIZE))
    while result is not None:
        for oc in result.objects:
            if any(type(m.fault).__name__ == "ManagedObjectNotFound" for m in (oc.missingSet or [])):
                continue   # gone meanwhile (a spec with reportMissingObjectsInResults): nothing to say of it
            yield Obj(ref=oc.obj, type=oc.obj._wsdlName, props={p.name: p.val for p in (oc.propSet or [])})
        if not result.token:
            break
        result = collector.ContinueRetrievePropertiesEx(token=result.token)


def read_objects(session, refs: Iterable[Any], paths: Iterable[str]) -> dict[str, Obj]:
    """Properties of given objects (of one type) that no container view reaches
    (e.g. HostNetworkSystem): moid -> Obj, in one paged read. An object gone meanwhile is left out
    (vCenter refuses the whole read with ManagedObjectNotFound unless asked to report it)."""
    from pyVmomi import vmodl

    refs = list(refs)
    if not refs:
        return {}
    pc = vmodl.query.PropertyCollector
    spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=r) for r in refs],
                         propSet=[pc.PropertySpec(type=type(refs[0]), pathSet=list(paths))],
                         reportMissingObjectsInResults=True)
    generation = getattr(session, "generation", 0)
    try:
        return {o.moid: o for o in retrieve(session, spec)}
    except Exception:   # a page token of an ended session: read again in the new one
        if getattr(session, "generation", 0) == generation:
            raise
        return {o.moid: o for o in retrieve(session, spec)}


def read_inventory(session, props: Mapping[str, Iterable[str]], root=None) -> Inventory:
    """Read every object of the types in ``props`` (type name -> property paths).

    Calls: CreateContainerView, RetrievePropertiesEx (+1 per extra page); the view goes with the logout.
    When vCenter ends the session halfway (the view dies with it), the read starts again
    once in the new session (vsphere/stub.py).
    """
    generation = getattr(session, "generation", 0)
    try:
        inv = _read_inventory(session, props, root)
    except Exception:
        if getattr(session, "generation", 0) == generation:
            raise
        inv = _read_inventory(session, props, root)
    trail = audit.of(session)
    if trail is not None:    # the audit trail names the objects it writes about
        trail.learn({moid: o.name for moid, o in inv.objects.items()})
    return inv


def _read_inventory(session, props: Mapping[str, Iterable[str]], root=None) -> Inventory:
    from pyVmomi import vim, vmodl

    content = session.content
    # Folders and datacenters always come along: paths and datacenter scoping need them.
    props = {"Folder": (), "Datacenter": (), **props}
    types = {name: getattr(vim, name) for name in props}
    view = content.viewManager.CreateContainerView(
        container=root or content.rootFolder, type=list(types.values()), recursive=True)
    try:
        pc = vmodl.query.PropertyCollector
        traverse = pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
            propSet=[pc.PropertySpec(type=cls, pathSet=sorted(set(BASE_PROPS) | set(props[name])))
                     for name, cls in types.items()],
        )
        asked = {name: sorted(set(BASE_PROPS) | set(paths)) for name, paths in props.items()}
        return Inventory({o.moid: o for o in retrieve(session, spec)}, asked)
    finally:
        free(session, view, "DestroyView")
