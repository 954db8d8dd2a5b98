"""Waiting for guests to boot: IP addresses (and VMware Tools) of many VMs through one collector."""
from __future__ import annotations

import time
from typing import Any, Iterable

GUEST_PROPS = ["guest.ipAddress", "guest.toolsRunningStatus"]
# Guests come up one by one and vCenter answers a wait as soon as one did: calls at least this far
# apart let the addresses of a booting cluster come in a few answers rather than one each.
MIN_INTERVAL = 0.25


def wait_for_ips(session, vms: Iterable[Any], timeout: float, need_tools: bool = False) -> dict[str, dict]:
    """Wait until every VM reports an IP (and running Tools if asked), or the timeout passes.

    Returns {moid: {"ip": str|None, "tools": str|None}} for every VM. Calls:
    CreateListView, CreatePropertyCollector, CreateFilter, WaitForUpdatesEx (as
    few as the guests' changes allow), DestroyPropertyCollector, DestroyView.
    """
    from pyVmomi import vim, vmodl

    vms = list(vms)
    state = {vm._moId: {"ip": None, "tools": None} for vm in vms}
    if not vms:
        return state
    pc = vmodl.query.PropertyCollector
    content = session.content
    view = content.viewManager.CreateListView(obj=vms)
    collector = content.propertyCollector.CreatePropertyCollector()
    try:
        traverse = pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ListView)
        collector.CreateFilter(pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
            propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=GUEST_PROPS)]), partialUpdates=False)

        def ready(s):
            return bool(s["ip"]) and (not need_tools or s["tools"] == "guestToolsRunning")

        deadline = time.monotonic() + timeout
        version, last = "", 0.0
        while not all(ready(s) for s in state.values()):
            if version:
                time.sleep(max(0.0, min(last + MIN_INTERVAL, deadline) - time.monotonic()))
            last = time.monotonic()
            remaining = deadline - last
            if remaining <= 0:
                break
            update = collector.WaitForUpdatesEx(version, pc.WaitOptions(maxWaitSeconds=max(1, int(min(remaining, 60)))))
            if update is None:
                continue
            version = update.version
            for fs in update.filterSet or []:
                for oc in fs.objectSet or []:
                    s = state.get(oc.obj._moId)
                    if s is None:
                        continue
                    for change in oc.changeSet or []:
                        if change.name == "guest.ipAddress":
                            s["ip"] = change.val
                        elif change.name == "guest.toolsRunningStatus":
                            s["tools"] = change.val
        return state
    finally:
        try:
            collector.DestroyPropertyCollector()
            view.DestroyView()
        except Exception:  # cleanup is best effort; the session's end reaps both
            pass
