"""What vCenter runs at once, counted as it counts it: the runner's budget (ops/runner.py).

Each running operation takes its charges (units per host, settings/admission.py) until it ends;
one starts only when every host it touches has the units and fewer than ``max_operations`` run.
``max_per_host`` (--max-per-host) caps the operations touching one host, as source or destination.
"""
from __future__ import annotations

from collections import Counter

from vhpc_toolkit.settings.admission import AdmissionModel


class Ledger:
    def __init__(self, model: AdmissionModel, max_per_host: int | None = None, max_operations: int | None = None):
        self.model = model
        self.max_per_host = max_per_host
        self.max_operations = max_operations or model.max_operations
        self.used: Counter = Counter()      # units in use per host
        self.operations: Counter = Counter()   # operations in flight per host
        self.running = 0

    def admit(self, charges: dict[str, int]) -> bool:
        """Take ``charges`` if they fit now (True), else leave everything as it is (False)."""
        if self.max_operations and self.running >= self.max_operations:
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
        return True

    def release(self, charges: dict[str, int]) -> None:
        for h, u in charges.items():
            self.used[h] -= u
            self.operations[h] -= 1
        self.running -= 1
