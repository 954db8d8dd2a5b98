"""Timeouts of the connections to vCenter (docs/settings.md, Timeouts and sessions)."""
from __future__ import annotations

import math
from typing import Any

from vhpc_toolkit.errors import SettingsError

DEFAULT_CONNECT_TIMEOUT = 15.0   # seconds to connect (TCP and TLS) to vCenter
DEFAULT_READ_TIMEOUT = 120.0     # seconds to wait for any answer of vCenter
MAX_TIMEOUT = 3600.0


def parse_timeout(value: Any, what: str) -> float:
    """Seconds: a finite number above 0 and at most an hour."""
    if isinstance(value, bool):
        raise SettingsError(f"{what} must be a number of seconds, not {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise SettingsError(f"{what} must be a number of seconds, not {value!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise SettingsError(f"{what} must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, "
                            f"not {value!r}")
    return float(value)
