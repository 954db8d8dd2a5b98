"""Waiting for guests: IP addresses and VMware Tools of many VMs through one Watch each."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from vhpc_toolkit.vsphere.watch import Watch

TOOLS_RUNNING = "guestToolsRunning"
GUEST_WAIT_INTERVAL = 0.25   # seconds between waits: a booting cluster's guests answer in a few calls


def wait_for_ips(session, vms: Iterable[Any], timeout: float,
                 on_ip: Callable[[str, str], None] | None = None) -> dict[str, dict]:
    """Wait until every VM reports an IP, or the timeout passes; ``on_ip(moid, ip)`` as each does.

    Returns {moid: {"ip": str|None, "tools": str|None}} for every VM. Calls:
    CreateListView, CreatePropertyCollector, CreateFilter, WaitForUpdatesEx (as
    few as the guests' changes allow); the collector and the view go with the logout.
    """
    vms = list(vms)
    if not vms:
        return {}
    with Watch(session, min_interval=GUEST_WAIT_INTERVAL) as watch:
        watch.listed(vms, ["guest.ipAddress", "guest.toolsRunningStatus"])

        def value(vm, path):
            return watch.values.get(vm._moId, {}).get(path)

        reported: set[str] = set()

        def all_have_ips() -> bool:
            for vm in vms:
                ip = value(vm, "guest.ipAddress")
                if ip and vm._moId not in reported:
                    reported.add(vm._moId)
                    if on_ip:
                        on_ip(vm._moId, ip)
            return all(value(vm, "guest.ipAddress") for vm in vms)

        watch.until(all_have_ips, timeout)
        return {vm._moId: {"ip": value(vm, "guest.ipAddress"), "tools": value(vm, "guest.toolsRunningStatus")}
                for vm in vms}


def wait_for_tools(session, vms: Iterable[Any], timeout: float) -> dict[str, str | None]:
    """Wait until every VM reports ``guest.toolsRunningStatus == guestToolsRunning``.

    Returns {moid: last status} (a VM may not have made it within ``timeout``).
    """
    vms = list(vms)
    if not vms:
        return {}
    with Watch(session, min_interval=GUEST_WAIT_INTERVAL) as watch:
        watch.listed(vms, ["guest.toolsRunningStatus"])

        def status(vm):
            return watch.values.get(vm._moId, {}).get("guest.toolsRunningStatus")

        watch.until(lambda: all(status(vm) == TOOLS_RUNNING for vm in vms), timeout)
        return {vm._moId: status(vm) for vm in vms}
