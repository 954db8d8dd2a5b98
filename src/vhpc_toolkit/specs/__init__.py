"""Pure builders of vim spec fragments: no server, unit-tested.

Every builder takes the ConfigSpec being assembled for one VM, the VM's current
properties (property path -> value, as read by vsphere.inventory) and the
desired values; it sets only what differs and returns the changes it made, so a
command sends one spec per VM, or none when the VM is already as asked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field}: {_word(self.old)} -> {_word(self.new)}"


def _word(value: Any) -> str:
    """A value as a person reads it: nothing set is "none", not Python's None; a switch is "yes" or "no",
    not Python's True and False."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value is None or value == [] else str(value)
