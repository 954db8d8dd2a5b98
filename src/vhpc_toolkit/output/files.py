"""Writing the files a run leaves for the next tool: every path checked before any change, each file
replaced whole, never written through a symbolic link.

A path that is a symlink is replaced by a regular file (the link goes, what it pointed at stays as
it was): writing through it could overwrite whatever it names, the cluster file included. A file is
written next to its final name and renamed over it, so a reader never sees half of it.
"""
from __future__ import annotations

import os
import stat

from vhpc_toolkit.errors import refuse_problems


def where_written(path: str) -> str:
    """The file ``path`` names once written: its folder resolved, its own name not (a link is replaced)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(os.path.realpath(folder), name)


def path_problem(path: str, protected: dict[str, str]) -> str | None:
    """Why ``path`` cannot be written (or must not be), or None. ``protected``: written path -> what it is."""
    target = where_written(path)
    folder = os.path.dirname(target)
    if not os.path.basename(target):
        return "is a folder; give a file name"
    if target in protected:
        return f"that is {protected[target]}"
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"cannot be checked: {exc.strerror or exc}"
    if mode is not None and stat.S_ISDIR(mode):
        return "is a folder; give a file name"
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        return "not a regular file (a FIFO, socket or device)"
    if not os.path.isdir(folder):
        return f"folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"folder {folder} is not writable"
    if mode is not None and stat.S_ISREG(mode) and not os.access(target, os.W_OK):
        return "not writable"
    return None


def check_paths(paths: list[tuple[str, str]], protected: dict[str, str]) -> None:
    """Refuse (ValidationFailed, before any change) when any of (label, path) cannot be written, would
    overwrite a ``protected`` file (its path -> what it is) or is given twice."""
    protected = {where_written(p): what for p, what in protected.items()}
    problems, seen = [], {}
    for label, path in paths:
        problem = path_problem(path, protected)
        target = where_written(path)
        if problem is None and target in seen:
            problem = f"also written by {seen[target]}"
        if problem:
            problems.append(f"{label} {path}: {problem}")
        seen.setdefault(target, label)
    refuse_problems(problems)


def replace_file(path: str, text: str) -> None:
    """Write ``text`` to ``path`` as a new file renamed over it (a symlink there is replaced, not
    followed). The mode is that of a new file (0666 less the umask)."""
    target = where_written(path)
    temp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
