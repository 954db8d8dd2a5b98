"""Waiting for guest customization to end, as vCenter reports it.

A customized guest boots with its old address (a clone: the template's DHCP lease),
runs the customization, reboots (VMware Tools stops for a while) and comes back with
the new address. vCenter logs CustomizationStartedEvent, then CustomizationSucceeded
or a CustomizationFailed subtype (CustomizationNetworkSetupFailed, ...) for the VM;
Ansible's vmware_guest (wait_for_customization) and PowerCLI wait on these events.

Here one EventHistoryCollector (customization events of the whole inventory) and the
VMs' guest addresses are watched through one Watch (vsphere/watch.py): its
``latestPage`` changes as events arrive, so WaitForUpdatesEx reports them; nothing is
polled and nothing is read per VM. The collector must exist before the VMs boot:
events with keys up to the newest already on its page are older and ignored. Its page
holds three events per VM waited for (and room to spare); should more events than
that arrive between two waits (other customizations in vCenter), the VMs still
waiting are looked up once each with QueryEvents.

Calls: CreatePropertyCollector, CreateCollectorForEvents, SetCollectorPageSize,
CreateFilter and one WaitForUpdatesEx when opened; CreateListView and CreateFilter for
the VMs; WaitForUpdatesEx as often as the guests change; the collectors and the view are
freed by the logout (vsphere/session.py Session.free).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from vhpc_toolkit.vsphere.guest.info import GUEST_WAIT_INTERVAL
from vhpc_toolkit.vsphere.watch import Watch

STARTED, SUCCEEDED, FAILED = "CustomizationStartedEvent", "CustomizationSucceeded", "CustomizationFailed"
EVENT_TYPES = [STARTED, SUCCEEDED, FAILED]   # FAILED matches its subtypes too
MAX_PAGE = 1000                               # vSphere's largest collector page
GUEST_PROPS = ["guest.ipAddress", "guest.net"]


@dataclass(frozen=True)
class Expect:
    """What to wait for on one VM: its customization (if it has one), then an address
    (``ip``: that one; None: any)."""

    customized: bool = True
    ip: str | None = None


@dataclass
class GuestOutcome:
    """How a VM's boot ended: ``state`` succeeded | failed | timed out; its address."""

    state: str
    ip: str | None = None
    event: str | None = None       # the last customization event's type name, e.g. CustomizationSucceeded
    message: str = ""              # that event's fullFormattedMessage
    addresses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == "succeeded"


def _type_name(event) -> str:
    return type(event).__name__.split(".")[-1]


def _is_failure(event) -> bool:
    from pyVmomi import vim

    return isinstance(event, vim.event.CustomizationFailed)


def _addresses(net) -> list[str]:
    return [ip for nic in net or [] for ip in (nic.ipAddress or [])]


class CustomizationWatch:
    """Customization events and guest addresses of VMs about to boot; use as a context manager."""

    def __init__(self, session, vm_count: int, page_size: int | None = None):
        from pyVmomi import vim

        self._session = session
        self._watch = Watch(session, min_interval=GUEST_WAIT_INTERVAL)
        self._page_size = min(MAX_PAGE, page_size or 3 * vm_count + 20)
        self._collector = None
        self._spec = vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(entity=session.content.rootFolder, recursion="all"),
            eventTypeId=EVENT_TYPES)
        try:
            self._make_collector()
            self._watch.wait(1)                     # the page as it is now: all of it is history
        except BaseException:
            self.close()
            raise
        page = self._page()
        self._baseline = max((e.key for e in page), default=0)
        self._newest = self._baseline
        self.events: dict[str, list[Any]] = {}      # VM moid -> its new customization events, oldest first
        self._seen: set[int] = set()

    def __enter__(self) -> "CustomizationWatch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _make_collector(self) -> None:
        """The event collector (it belongs to the session) and the watch on its latest page."""
        self._generation = getattr(self._session, "generation", 0)
        self._collector = self._session.content.eventManager.CreateCollectorForEvents(filter=self._spec)
        self._collector.SetCollectorPageSize(maxCount=self._page_size)
        self._collector_watch = self._watch.objects([self._collector], ["latestPage"])

    def _renew(self, pending: set[str]) -> None:
        """The session was renewed: the old collector died with it. A new one, and the events of the
        VMs still waiting asked for once (those of the gap are on no page the watch saw)."""
        self._watch.drop(self._collector_watch)
        self._make_collector()
        self._query(pending)

    def _page(self) -> list[Any]:
        return list(self._watch.values.get(self._collector._moId, {}).get("latestPage") or [])

    def _take(self, events) -> None:
        for e in sorted(events, key=lambda e: e.key):
            if e.key <= self._baseline or e.key in self._seen or e.vm is None:
                continue
            self._seen.add(e.key)
            evs = self.events.setdefault(e.vm.vm._moId, [])
            evs.append(e)
            evs.sort(key=lambda ev: ev.key)   # a query may bring older events after newer ones

    def _read_page(self, pending: set[str]) -> None:
        if self._generation != getattr(self._session, "generation", 0):
            self._renew(pending)
        page = self._page()
        if not page:
            return
        oldest = min(e.key for e in page)
        overflow = len(page) >= self._page_size and oldest > self._newest
        self._take(page)
        self._newest = max(self._newest, max(e.key for e in page))
        if overflow:   # events arrived faster than waits: ask for the VMs still waiting
            self._query(pending)

    def _query(self, moids: set[str]) -> None:
        from pyVmomi import vim

        em = self._session.content.eventManager
        for moid in sorted(moids):
            ref = vim.VirtualMachine(moid, self._session.si._stub)
            spec = vim.event.EventFilterSpec(entity=vim.event.EventFilterSpec.ByEntity(entity=ref, recursion="self"),
                                             eventTypeId=EVENT_TYPES)
            self._take(em.QueryEvents(filter=spec) or [])

    def last(self, moid: str):
        evs = self.events.get(moid)
        return evs[-1] if evs else None

    def wait(self, vms: dict[Any, Expect], timeout: float,
             on_done: Callable[[str, GuestOutcome], None] | None = None) -> dict[str, GuestOutcome]:
        """Wait until every VM's customization ended and it reports the address it should
        (or the timeout passes); {moid: GuestOutcome}. ``on_done(moid, outcome)`` as each VM's
        outcome is known (progress)."""
        vms = dict(vms)
        if not vms:
            return {}
        self._watch.listed(list(vms), GUEST_PROPS)
        by_moid = {ref._moId: expect for ref, expect in vms.items()}

        def guest(moid):
            vals = self._watch.values.get(moid, {})
            return vals.get("guest.ipAddress") or None, _addresses(vals.get("guest.net"))

        def outcome(moid) -> GuestOutcome | None:
            expect = by_moid[moid]
            ip, addresses = guest(moid)
            event = self.last(moid)
            if expect.customized:
                if event is None or _type_name(event) == STARTED:
                    return None
                if _is_failure(event):
                    return GuestOutcome("failed", ip, _type_name(event), event.fullFormattedMessage or "", addresses)
            if expect.ip is not None:
                if expect.ip not in addresses and ip != expect.ip:
                    return None
                ip = expect.ip
            elif not ip:
                return None
            return GuestOutcome("succeeded", ip, _type_name(event) if event else None,
                                (event.fullFormattedMessage or "") if event else "", addresses)

        done: dict[str, GuestOutcome] = {}
        deadline = time.monotonic() + timeout
        while True:
            self._read_page(set(by_moid) - set(done))
            for moid in by_moid:
                if moid not in done:
                    found = outcome(moid)
                    if found is not None:
                        done[moid] = found
                        if on_done:
                            on_done(moid, found)
            remaining = deadline - time.monotonic()
            if len(done) == len(by_moid) or remaining <= 0:
                break
            self._watch.wait(remaining)
        for moid in by_moid:
            if moid not in done:
                ip, addresses = guest(moid)
                event = self.last(moid)
                done[moid] = GuestOutcome("timed out", ip, _type_name(event) if event else None,
                                          (event.fullFormattedMessage or "") if event else "", addresses)
        return done

    def close(self) -> None:
        if self._collector is not None:   # freed at the latest by the logout, as the watch's
            from vhpc_toolkit.vsphere.session import free

            free(self._session, self._collector, "DestroyCollector")
            self._collector = None
        self._watch.close()
