"""The order and the source of every clone, planned against vCenter's admission model.

vCenter runs a clone only while its source host and its destination host have units left
(settings/admission.py): all full clones of one template come from the template's host, 8 at a
time, wherever they go, so 256 VMs from one template are 32 clone times. A copy of the template on
another host is a source too: the template makes 8 copies in one clone time, those 9 sources
make 72 more in the next, and once every host of the cluster has a copy, each host clones from its
own copy, 4 at a time (a same-host clone takes 4 of its 16 units), all hosts at once. 256 VMs on
16 hosts: 2 clone times of copies, then 4 of clones, 6 in all.

The planner simulates vCenter's admission on a clock: at each moment it starts what fits, in this
order: linked and instant clones (they come from their source's snapshot or running VM, as the
file says); copies of the template to hosts chosen to get one; clones from a copy on the VM's own
host; clones from a source on another host for hosts without a copy. Which hosts get a copy is
chosen by simulating a few choices (none, the 1, 2, 4, ... hosts with the most VMs, all) and
keeping the soonest finish (the fewer copies on a tie). Pure code: hosts and templates are keys
(names), times are seconds when the clone time is known, else clone times.
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from vhpc_toolkit.settings.admission import FULL, AdmissionModel

TEMPLATE, COPY, KEPT = "template", "copy", "kept copy"
EPSILON = 1e-9


@dataclass(frozen=True)
class CloneRequest:
    name: str                 # the VM to make
    host: str                 # where it goes
    template: str             # what it is cloned from (a template, or an instant clone's running VM)
    template_host: str        # where that is
    kind: str = FULL          # full | linked | instant


@dataclass(frozen=True)
class Source:
    """What a clone copies: the template itself, or a copy of it on ``host``."""

    template: str
    host: str
    kind: str = TEMPLATE      # template | copy (made by this run) | kept copy (of an earlier run)


@dataclass
class Step:
    """One clone: of a VM of the file, or (``vm`` None) a copy of a template, which then serves as a source."""

    source: Source
    host: str
    kind: str
    start: float
    end: float
    vm: str | None = None

    @property
    def makes(self) -> Source | None:
        return Source(self.source.template, self.host, COPY) if self.vm is None else None


@dataclass
class ClonePlan:
    steps: list[Step]                  # in the order they start
    finish: float                      # when the last clone ends
    direct: float                      # when it would end with every clone from its template
    model: AdmissionModel
    kept: list[Source] = field(default_factory=list)   # copies of earlier runs this plan uses
    _sources: dict | None = field(default=None, repr=False)

    @property
    def copies(self) -> list[Step]:
        return [s for s in self.steps if s.vm is None]

    def source_of(self, vm: str) -> Source | None:
        if self._sources is None:
            self._sources = {s.vm: s.source for s in self.steps if s.vm is not None}
        return self._sources.get(vm)

    def rounds(self, when: float | None = None) -> float:
        """A time of this plan in clone times (full clones one after the other)."""
        return (self.finish if when is None else when) / self.model.duration(FULL)


class _Simulation:
    """vCenter's admission on a clock, with the planner's order of what to start."""

    def __init__(self, requests: list[CloneRequest], model: AdmissionModel, targets: dict[str, set[str]],
                 kept: dict[str, set[str]]):
        self.model = model
        self.units = model.host_units or math.inf
        self.limit = model.max_operations or math.inf
        self.free: dict[str, float] = defaultdict(lambda: self.units)
        self.running = 0
        self.now = 0.0
        self.steps: list[Step] = []
        self.events: list = []
        self.origin = {r.template: r.template_host for r in requests}
        self.sources = {t: {h: Source(t, h, TEMPLATE)} for t, h in self.origin.items()}
        for t, hosts in kept.items():
            for h in hosts:
                if t in self.sources and h not in self.sources[t]:
                    self.sources[t][h] = Source(t, h, KEPT)
        self.targets = {t: set(hosts) - set(self.sources.get(t, {})) for t, hosts in targets.items()}
        self.in_flight: dict[str, set[str]] = defaultdict(set)
        self.full: dict[str, dict[str, deque]] = defaultdict(lambda: defaultdict(deque))
        self.light: deque[CloneRequest] = deque()
        for r in requests:
            if r.kind == FULL:
                self.full[r.template][r.host].append(r.name)
            else:
                self.light.append(r)

    def fits(self, charges: dict[str, int]) -> bool:
        return self.running < self.limit and all(self.free[h] >= u for h, u in charges.items())

    def start(self, source: Source, host: str, kind: str, vm: str | None) -> None:
        charges = self.model.charges(kind, source.host, host)
        for h, u in charges.items():
            self.free[h] -= u
        self.running += 1
        step = Step(source, host, kind, self.now, self.now + self.model.duration(kind), vm)
        self.steps.append(step)
        heapq.heappush(self.events, (step.end, len(self.steps), step, charges))
        if vm is None:
            self.in_flight[source.template].add(host)

    def finish_due(self) -> None:
        self.now = self.events[0][0]
        while self.events and self.events[0][0] <= self.now + EPSILON:
            _, _, step, charges = heapq.heappop(self.events)
            for h, u in charges.items():
                self.free[h] += u
            self.running -= 1
            if step.vm is None:
                self.in_flight[step.source.template].discard(step.host)
                self.sources[step.source.template][step.host] = step.makes

    def run(self) -> float:
        while True:
            self.launch()
            if not self.events:
                break
            self.finish_due()
        if self.light or any(q for hosts in self.full.values() for q in hosts.values()):
            raise ValueError("the admission model admits none of the remaining clones")
        return max((s.end for s in self.steps), default=0.0)

    def launch(self) -> None:
        self._light()
        for template in self.full:
            self._seed(template)
            self._local(template)
            self._cross(template)

    def _light(self) -> None:
        waiting = deque()
        for r in self.light:
            source = Source(r.template, r.template_host, TEMPLATE)
            if self.fits(self.model.charges(r.kind, source.host, r.host)):
                self.start(source, r.host, r.kind, r.name)
            else:
                waiting.append(r)
        self.light = waiting

    def _best_source(self, template: str, host: str) -> Source | None:
        """A source on another host with units for one side of a full clone: one with no clones of
        its own left to make first, then the one with the most units free."""
        cost = self.model.full_clone_cost
        ready = [s for h, s in self.sources[template].items() if h != host and self.free[h] >= cost]
        if not ready:
            return None
        return min(ready, key=lambda s: (bool(self.full[template].get(s.host)), -self.free[s.host], s.host))

    def _seed(self, template: str) -> None:
        cost, queues = self.model.full_clone_cost, self.full[template]
        wanted = sorted(self.targets.get(template, set()) - set(self.sources[template]) - self.in_flight[template],
                        key=lambda h: (-len(queues.get(h, ())), h))
        for host in wanted:
            source = self._best_source(template, host)
            if source is None or self.free[host] < cost or self.running >= self.limit:
                return
            self.start(source, host, FULL, None)

    def _local(self, template: str) -> None:
        queues = self.full[template]
        for host in list(self.sources[template]):
            queue = queues.get(host)
            while queue and self.fits(self.model.charges(FULL, host, host)):
                self.start(self.sources[template][host], host, FULL, queue.popleft())

    def _cross(self, template: str) -> None:
        """One clone per host and pass, over the hosts without a copy: the load spreads over them."""
        cost = self.model.full_clone_cost
        waits = self.targets.get(template, set()) | set(self.sources[template])
        hosts = [h for h, q in self.full[template].items() if q and h not in waits]
        while hosts and self.running < self.limit:
            for host in list(hosts):
                queue = self.full[template][host]
                source = self._best_source(template, host) if self.free[host] >= cost else None
                if source is None or self.running >= self.limit:
                    hosts.remove(host)
                    continue
                self.start(source, host, FULL, queue.popleft())
                if not queue:
                    hosts.remove(host)


def _simulate(requests, model, targets, kept) -> tuple[float, list[Step]]:
    sim = _Simulation(requests, model, targets, kept)
    finish = sim.run()
    return finish, sorted(sim.steps, key=lambda s: (s.start, s.vm is not None))


def _choices(requests: list[CloneRequest], kept: dict[str, set[str]],
             copyable: set[str] | None) -> list[dict[str, set[str]]]:
    """Which hosts get a copy: for each template, none, its 1, 2, 4, ... hosts with the most full
    clones, or all of them (never its own host, nor a host with a kept copy)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    origin = {}
    for r in requests:
        if r.kind == FULL and (copyable is None or r.template in copyable):
            counts[r.template][r.host] += 1
            origin[r.template] = r.template_host
    ranked = {t: [h for h, _ in sorted(c.items(), key=lambda hc: (-hc[1], hc[0]))
                  if h != origin[t] and h not in kept.get(t, set())] for t, c in counts.items()}
    most = max((len(v) for v in ranked.values()), default=0)
    sizes, k = {0, most}, 1
    while k < most:
        sizes.add(k)
        k *= 2
    return [{t: set(hosts[:k]) for t, hosts in ranked.items()} for k in sorted(sizes)]


def plan_clones(requests: list[CloneRequest], model: AdmissionModel | None = None,
                kept: dict[str, set[str]] | None = None, copyable: set[str] | None = None) -> ClonePlan:
    """The plan that finishes soonest (the fewer copies on a tie). ``kept``: hosts that hold a usable
    copy of a template from an earlier run, by template; ``copyable``: the templates that may be
    copied (None: all; a running VM an instant clone forks, or a VM that is not a template, is not)."""
    model = model or AdmissionModel()
    kept = {t: set(h) for t, h in (kept or {}).items()}
    direct, _ = _simulate(requests, model, {}, {})
    best = None
    for targets in _choices(requests, kept, copyable):
        finish, steps = _simulate(requests, model, targets, kept)
        copies = sum(s.vm is None for s in steps)
        if best is None or finish < best[0] - EPSILON or (finish <= best[0] + EPSILON and copies < best[1]):
            best = (finish, copies, steps)
    finish, _, steps = best
    used = {(s.source.template, s.source.host) for s in steps if s.source.kind == KEPT}
    return ClonePlan(steps=steps, finish=finish, direct=direct, model=model,
                     kept=[Source(t, h, KEPT) for t, h in sorted(used)])
