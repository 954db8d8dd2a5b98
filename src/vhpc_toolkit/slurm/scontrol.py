"""Node state through Slurm's own client, as a ResumeProgram reports it (``scontrol update``).

slurmctld gives its programs SLURM_CONF (and nothing else): ``scontrol`` finds the configuration
from it. A node that cannot be resumed is marked DOWN with the toolkit's reason, so ``sinfo -R``
says why and Slurm requeues its job on other nodes at once.
"""
from __future__ import annotations

import shutil
import subprocess

from vhpc_toolkit.slurm.log import one_line

REASON_PREFIX = "vhpc: "
TIMEOUT = 30   # seconds for one scontrol call


def _scontrol(*args: str) -> str | None:
    """Run scontrol; None when it worked, else why not (one line)."""
    exe = shutil.which("scontrol")
    if exe is None:
        return "scontrol not found on PATH"
    try:
        done = subprocess.run([exe, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return one_line(f"scontrol {args[0]}: {exc}")
    if done.returncode != 0:
        return one_line(f"scontrol {' '.join(args[:2])} failed: {done.stderr or done.stdout}")
    return None


def mark_down(hostlist: str, reason: str) -> str | None:
    """``scontrol update nodename=HOSTLIST state=down reason="vhpc: REASON"``; None when done, else why not."""
    return _scontrol("update", f"nodename={hostlist}", "state=down",
                     f"reason={REASON_PREFIX}{one_line(reason, 200)}")


def set_address(node: str, address: str) -> str | None:
    """Tell slurmctld where a booted node is (its IP was not known when slurm.conf was written)."""
    return _scontrol("update", f"nodename={node}", f"nodeaddr={address}")
