"""How long a full clone took in the last run, per vCenter and template, kept on this machine.

The plan's estimate needs the clone time: ``clone_time:`` in vCenter.conf, else what the last
`cluster --create` on this machine measured (the median of its full clones' start-to-end times as
vCenter reports them), kept in ``~/.cache/vhpc_toolkit/clone-times.json`` ($XDG_CACHE_HOME).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vhpc_toolkit" / "clone-times.json"


def _key(server: str, template: str) -> str:
    return f"{server}/{template}"


def _load() -> dict:
    try:
        data = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remembered(server: str, template: str) -> float | None:
    """Seconds a full clone of ``template`` took on ``server`` in the last run here, or None."""
    entry = _load().get(_key(server, template))
    seconds = entry.get("seconds") if isinstance(entry, dict) else None
    return float(seconds) if isinstance(seconds, (int, float)) and seconds > 0 else None


def remember(server: str, template: str, seconds: float, clones: int) -> None:
    """Keep a measurement (best effort: a cache that cannot be written only loses the estimate)."""
    data = _load()
    data[_key(server, template)] = {"seconds": max(round(seconds, 3), 0.001), "clones": clones,
                                    "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass
