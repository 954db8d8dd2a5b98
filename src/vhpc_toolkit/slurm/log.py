"""The Slurm programs' log: one line per action, since Slurm shows nothing of their output.

    2026-05-04T10:21:07.113Z resume[4711] gpu001: cloned on vhpc-esx-03, booted with 127.0.1.11 (4.2 s)

Lines are appended with one write each (O_APPEND), so programs running side by side never
interleave inside a line. This is the Slurm programs' own log, apart from any audit trail of the
toolkit as a whole.
"""
from __future__ import annotations

import datetime as dt
import os


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (newlines folded), at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


class ActionLog:
    def __init__(self, path: str, action: str):
        self.path, self.action = path, action

    def write(self, subject: str, text: str) -> None:
        line = f"{_stamp()} {self.action}[{os.getpid()}] {subject}: {one_line(text)}\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        except OSError:   # the log is a courtesy: a resume never fails for it
            pass
