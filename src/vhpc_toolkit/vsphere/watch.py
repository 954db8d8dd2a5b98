"""The one way the toolkit waits on vCenter: a private PropertyCollector and WaitForUpdatesEx.

As govmomi's ``property.WaitForUpdatesEx`` is under ``task.Wait``, ``Watch`` is under every
wait here: tasks (vsphere/tasks.py), guest IPs and VMware Tools (vsphere/guestinfo.py).
The caller names objects and properties; ``wait`` blocks server-side until something
changes (no polling) and keeps the latest value of every watched property. The collector
is private (created here, destroyed on close), so its filters never meet other clients'.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

MAX_WAIT_SECONDS = 60   # one WaitForUpdatesEx never blocks longer than this


class Watch:
    """Watched objects' properties, kept up to date by ``wait()``; use as a context manager."""

    def __init__(self, session, min_interval: float = 0.0):
        """``min_interval``: seconds at least between two waits. vCenter answers a wait as soon as
        one object changed; guests come up one by one, so spaced waits gather a booting cluster's
        changes in a few answers rather than one call per VM."""
        from pyVmomi import vmodl

        self._pc = vmodl.query.PropertyCollector
        self._session = session
        self._collector = session.content.propertyCollector.CreatePropertyCollector()
        self._version = ""
        self._min_interval = min_interval
        self._last = 0.0
        self._views: list[Any] = []
        self.values: dict[str, dict[str, Any]] = {}   # moid -> property path -> latest value

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def objects(self, refs: Iterable[Any], paths: Iterable[str]):
        """Watch ``paths`` of these objects (all of one type); returns the filter (see ``drop``)."""
        refs = list(refs)
        spec = self._pc.FilterSpec(objectSet=[self._pc.ObjectSpec(obj=r) for r in refs],
                                   propSet=[self._pc.PropertySpec(type=type(refs[0]), pathSet=list(paths))])
        return self._collector.CreateFilter(spec, partialUpdates=False)

    def listed(self, refs: Iterable[Any], paths: Iterable[str], kind=None):
        """Watch ``paths`` of many objects of one type through one ListView; returns the view, whose
        ``ModifyListView(add=..., remove=...)`` changes the set watched in one call."""
        from pyVmomi import vim

        refs = list(refs)
        view = self._session.content.viewManager.CreateListView(obj=refs)
        self._views.append(view)
        traverse = self._pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ListView)
        spec = self._pc.FilterSpec(objectSet=[self._pc.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                                   propSet=[self._pc.PropertySpec(type=kind or type(refs[0]), pathSet=list(paths))])
        self._collector.CreateFilter(spec, partialUpdates=False)
        return view

    def wait(self, timeout: float) -> set[str]:
        """One WaitForUpdatesEx of at most ``timeout`` seconds; the moids whose values changed."""
        if self._version and self._min_interval:
            pause = self._last + self._min_interval - time.monotonic()
            if pause > 0:
                time.sleep(min(pause, timeout))
                timeout -= pause
        self._last = time.monotonic()
        seconds = max(1, min(MAX_WAIT_SECONDS, int(timeout + 0.999)))
        update = self._collector.WaitForUpdatesEx(self._version, self._pc.WaitOptions(maxWaitSeconds=seconds))
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
        # Best effort: when the session is gone (Ctrl-C, expiry) the server reaps both with it.
        for obj, method in [(self._collector, "DestroyPropertyCollector")] + \
                [(v, "DestroyView") for v in self._views]:
            try:
                getattr(obj, method)()
            except Exception:
                pass
