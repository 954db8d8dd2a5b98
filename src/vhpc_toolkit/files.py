"""Reading the user's files: only regular files, text only as UTF-8, one clear line otherwise.

A FIFO, a device or a folder given where a file belongs would block or fail deep inside;
``os.stat`` tells them apart without opening (which would block on a FIFO).
"""
from __future__ import annotations

import os
import stat

from vhpc_toolkit.errors import InputError


def file_problem(path) -> str | None:
    """Why ``path`` is no regular file one can read, said after its name ("does not exist", "is a
    folder; ...", "is not a regular file ..."), or None. Nothing is opened: a FIFO would block."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return "is a folder; give the file itself"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a FIFO, socket or device such as /dev/null)"
    return None


def read_bytes(path: str, what: str) -> bytes:
    """The bytes of the regular file ``path``; InputError naming ``what`` and the path otherwise
    (``c.conf: cluster file does not exist``)."""
    problem = file_problem(path)
    if problem is not None:
        raise InputError(f"{path}: {what} {problem}")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise InputError(f"{path}: {what} cannot be read: {exc.strerror or exc}") from None


def decode_utf8(data: bytes, path: str, what: str) -> str:
    """``data`` as UTF-8 text; InputError with the line of the first bad byte otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: str, what: str) -> str:
    return decode_utf8(read_bytes(path, what), path, what)
