"""What vCenter runs at once, counted as it counts it: the runner's budget (ops/runner.py).

Each running operation takes its charges (units per host, settings/admission.py) until it ends;
one starts only when every host it touches has the units and fewer than ``max_operations`` run.
``max_per_host`` (--max-per-host) caps the operations touching one host, as source or destination.
Operations that take no units (a reconfigure beside the clones) count against those caps, and at
most ``max_others`` of them run at once, as without the model.
"""
from __future__ import annotations

from collections import Counter

from vhpc_toolkit.settings.admission import AdmissionModel

MAX_OTHERS = 32   # operations without units in flight at once (ops/runner's DEFAULT_CONCURRENCY)


class Ledger:
    def __init__(self, model: AdmissionModel, max_per_host: int | None = None, max_operations: int | None = None,
                 max_others: int = MAX_OTHERS):
        self.model = model
        self.max_others = max_others
        self.others = 0                     # operations in flight that take no units
        self.max_per_host = max_per_host
        self.max_operations = max_operations or model.max_operations
        self.used: Counter = Counter()      # units in use per host
        self.operations: Counter = Counter()   # operations in flight per host
        self.running = 0

    def admit(self, charges: dict[str, int]) -> bool:
        """Take ``charges`` if they fit now (True), else leave everything as it is (False)."""
        if self.max_operations and self.running >= self.max_operations:
            return False
        other = not any(charges.values())
        if other and self.others >= self.max_others:
            return False
        units = self.model.host_units
        if units and any(self.used[h] + u > units for h, u in charges.items()):
            return False
        if self.max_per_host and any(self.operations[h] >= self.max_per_host for h in charges):
            return False
        for h, u in charges.items():
            self.used[h] += u
            self.operations[h] += 1
        self.running += 1
        self.others += other
        return True

    def release(self, charges: dict[str, int]) -> None:
        for h, u in charges.items():
            self.used[h] -= u
            self.operations[h] -= 1
        self.running -= 1
        self.others -= not any(charges.values())
