"""The one way the toolkit waits on vCenter: a private PropertyCollector and WaitForUpdatesEx.

As govmomi's ``property.WaitForUpdatesEx`` is under ``task.Wait``, ``Watch`` is under every
wait here: tasks (vsphere/tasks.py), guest IPs and VMware Tools (vsphere/guest/info.py).
The caller names objects and properties; ``wait`` blocks server-side until something
changes (no polling) and keeps the latest value of every watched property. The collector
is private (created here, freed on close or with the session), so its filters never meet other
clients'.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable

MAX_WAIT_SECONDS = 60   # one WaitForUpdatesEx never blocks longer than this (nor half the read timeout)

log = logging.getLogger(__name__)


class _Watched:
    """What one filter watches, so that it can be made again in a new session."""

    def __init__(self, kind: str, refs: list, paths: list[str], type_=None, owner: "Watch | None" = None):
        self.kind, self.refs, self.paths, self.type = kind, refs, paths, type_ or type(refs[0])
        self.filter = None
        self.generation = -1    # the session generation its filter was made in
        self.view = None        # the ListView of a "listed" watch
        self.owner = owner

    def modify(self, add: list, remove: list) -> None:
        """A listed watch's set changes: ``add`` watched from now, ``remove`` no longer (one call)."""
        gone = {r._moId for r in remove}
        self.refs = [r for r in self.refs if r._moId not in gone] + list(add)
        self.owner.renewing(lambda: self.view.ModifyListView(add=list(add), remove=list(remove)))


class Watch:
    """Watched objects' properties, kept up to date by ``wait()``; use as a context manager.

    The collector, its filters and list views belong to the session: when vCenter ends it and
    the stub logs in again (vsphere/stub.py), they are made again in the new session and the
    wait goes on from the objects' current values.
    """

    def __init__(self, session, min_interval: float = 0.0):
        """``min_interval``: seconds at least between two waits. vCenter answers a wait as soon as
        one object changed; guests come up one by one, so spaced waits gather a booting cluster's
        changes in a few answers rather than one call per VM."""
        from pyVmomi import vmodl

        self._pc = vmodl.query.PropertyCollector
        self._session = session
        self._min_interval = min_interval
        self._last = 0.0
        self._views: list[Any] = []
        self._watched: list[_Watched] = []
        self.values: dict[str, dict[str, Any]] = {}   # moid -> property path -> latest value
        self._open()

    def _open(self) -> None:
        self._generation = getattr(self._session, "generation", 0)
        self._collector = self._session.content.propertyCollector.CreatePropertyCollector()
        self._version = ""
        self._views = []

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def objects(self, refs: Iterable[Any], paths: Iterable[str]) -> _Watched:
        """Watch ``paths`` of these objects (all of one type); returns a handle for ``drop``."""
        return self._add(_Watched("objects", list(refs), list(paths), owner=self))

    def listed(self, refs: Iterable[Any], paths: Iterable[str], kind=None) -> _Watched:
        """Watch ``paths`` of many objects of one type through one ListView; the handle's
        ``modify(add, remove)`` changes the set watched in one call."""
        return self._add(_Watched("listed", list(refs), list(paths), kind, owner=self))

    def _add(self, watched: _Watched) -> _Watched:
        self._watched.append(watched)
        self.renewing(lambda: self._make_filter(watched))
        return watched

    @property
    def renewed(self) -> bool:
        """Whether the session was renewed since the collector was made (it died with the old one)."""
        return self._generation != getattr(self._session, "generation", 0)

    def renewing(self, call: Callable[[], Any]) -> None:
        """``call()`` on the collector or a view; when the session was renewed before or during it,
        everything is made again in the new session instead (the stub's repeat of the call met the
        dead object)."""
        if self.renewed:
            self._reopen()
            return
        try:
            call()
        except Exception:
            if not self.renewed:
                raise
            self._reopen()

    def _make_filter(self, w: _Watched) -> None:
        from pyVmomi import vim

        props = [self._pc.PropertySpec(type=w.type, pathSet=w.paths)]
        if w.kind == "objects":
            spec = self._pc.FilterSpec(objectSet=[self._pc.ObjectSpec(obj=r) for r in w.refs], propSet=props)
        else:
            view = w.view = self._session.content.viewManager.CreateListView(obj=w.refs)
            self._views.append(view)
            traverse = self._pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ListView)
            spec = self._pc.FilterSpec(objectSet=[self._pc.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                                       propSet=props)
        w.filter = self._collector.CreateFilter(spec, partialUpdates=False)
        w.generation = self._generation

    def drop(self, watched: _Watched) -> None:
        """Stop watching what ``watched`` watched (its objects are done)."""
        if watched in self._watched:
            self._watched.remove(watched)
        if watched.filter is None or self.renewed or watched.generation != self._generation:
            return   # it went with an ended session: a call could only fail
        try:
            watched.filter.DestroyPropertyFilter()
        except Exception:  # already gone with the collector; nothing left to free
            pass

    def _reopen(self) -> None:
        """The session was renewed: the same filters on a new collector (again, if the session ends
        once more meanwhile; the stub gives up after a few renewals)."""
        while True:
            self._open()
            for w in list(self._watched):
                try:
                    self._make_filter(w)
                except Exception as exc:
                    if self.renewed:
                        break        # the new session ended too: start over in the next one
                    log.debug("cannot watch %s again: %s", w.kind, exc)   # an object gone meanwhile
                    self._watched.remove(w)
            if not self.renewed:
                return

    def wait(self, timeout: float) -> set[str]:
        """One WaitForUpdatesEx of at most ``timeout`` seconds; the moids whose values changed."""
        if self._version and self._min_interval:
            pause = self._last + self._min_interval - time.monotonic()
            if pause > 0:
                time.sleep(min(pause, timeout))
                timeout -= pause
        self._last = time.monotonic()
        read_timeout = getattr(self._session, "read_timeout", None) or 2 * MAX_WAIT_SECONDS
        limit = max(1, min(MAX_WAIT_SECONDS, int(read_timeout / 2)))
        seconds = max(1, min(limit, int(timeout + 0.999)))
        if self.renewed:
            self._reopen()
        try:
            update = self._collector.WaitForUpdatesEx(self._version, self._pc.WaitOptions(maxWaitSeconds=seconds))
        except Exception:
            if not self.renewed:
                raise
            self._reopen()       # the session ended during the wait and a new one began
            return set(self.values)
        changed: set[str] = set()
        if update is None:
            return changed
        self._version = update.version
        for fs in update.filterSet or []:
            for oc in fs.objectSet or []:
                vals = self.values.setdefault(oc.obj._moId, {})
                for change in oc.changeSet or []:
                    vals[change.name] = None if change.op == "remove" else change.val
                changed.add(oc.obj._moId)
        return changed

    def until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``done()`` holds (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.wait(remaining)
        return True

    def close(self) -> None:
        # Freed at the latest by the logout (vsphere/session.py Session.free); when the session is
        # gone (Ctrl-C, expiry) the server has reaped both with it already.
        from vhpc_toolkit.vsphere.session import free

        for obj, method in [(self._collector, "DestroyPropertyCollector")] + \
                [(v, "DestroyView") for v in self._views]:
            free(self._session, obj, method)
        self._views = []
