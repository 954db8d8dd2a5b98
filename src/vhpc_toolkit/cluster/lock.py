"""One run at a time per cluster file: a lock held on vCenter.

The lock is a custom attribute definition named after the file's owner mark
(``vhpc_toolkit.lock <hash>``): vCenter defines a name once and refuses the second
AddCustomFieldDef with DuplicateName, atomically, for every client. The holder (user,
machine, process, since when, file) is the attribute's value on the root folder, so
the refused run can name it. Released (RemoveCustomFieldDef) at the end of the run,
even after a failure or Ctrl-C; a run that was killed leaves it behind, and
``cluster --unlock --file F`` (or deleting the attribute in the vSphere Client) breaks it.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import socket
from contextlib import contextmanager
from typing import Iterator

from vhpc_toolkit.cluster.ownership import owner_mark
from vhpc_toolkit.errors import ConnectionFailed, NoAnswer, VhpcError
from vhpc_toolkit.vsphere.fields import (UNREADABLE, VALUE_PROP, add_field, field_keys, manager, remove_field,
                                         set_value, value_of)
from vhpc_toolkit.vsphere.inventory import read_objects

LOCK_PREFIX = "vhpc_toolkit.lock "


class Locked(VhpcError):
    """Another run holds the cluster file's lock; nothing was changed."""


def lock_name(path: str) -> str:
    return LOCK_PREFIX + hashlib.sha256(owner_mark(path).encode()).hexdigest()[:16]


def _holder(path: str) -> str:
    try:
        user = getpass.getuser()
    except Exception:   # no user name in this environment
        user = str(os.getuid())
    since = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{user}@{socket.gethostname()} pid {os.getpid()} since {since} ({os.path.realpath(path)})"


NO_HOLDER = "a run that has not written its name yet"
UNUSABLE = -2   # acquire: the server's custom attributes cannot be used (no lock)


def _held_by(session, key: int) -> str:
    root = session.content.rootFolder
    try:
        obj = read_objects(session, [root], [VALUE_PROP]).get(root._moId)
    except Exception:   # unreadable: the refusal still stands
        return "an unknown holder"
    return value_of(obj, key) or NO_HOLDER


def acquire(session, path: str) -> int:
    """Take the lock of the cluster file at ``path``; Locked naming the holder if taken."""
    from pyVmomi import vim

    if manager(session) is None:
        return -1   # a host without vCenter: no custom attributes, no lock
    name = lock_name(path)
    try:
        key = add_field(session, name)
    except TypeError:
        # The server's answer lacks what vSphere's CustomFieldDef must hold (the stock govmomi
        # simulator omits its type): custom attributes are unusable there, and so is the lock.
        return UNUSABLE
    except ConnectionFailed:
        # The answer was lost; vCenter may have made the field. One that names no holder yet is
        # taken as ours (a run that made it sets its holder at once), else the error stands.
        key = field_keys(session).get(name)
        if key is None or _held_by(session, key) != NO_HOLDER:
            raise
    except vim.fault.DuplicateName:
        keys = field_keys(session)
        if keys is UNREADABLE:
            return UNUSABLE   # a lock of ours from a run the server could not answer properly
        key = keys.get(name)
        holder = _held_by(session, key) if key is not None else "a run that has just finished"
        raise Locked(f"cluster file {path} is locked by {holder} (custom attribute '{name}' on vCenter); "
                     f"nothing was changed. If that run is gone: vhpc_toolkit cluster --unlock --file {path}") \
            from None
    try:
        set_value(session, session.content.rootFolder, key, _holder(path))
    except Exception:   # the lock holds without the holder's name
        pass
    return key


def release(session, key: int, attempts: int = 3) -> None:
    """Remove the lock; a dropped connection is tried again (removing is idempotent: a lock already
    gone is refused with InvalidArgument, which ends it), so a flaky connection leaves no stale lock.
    A vCenter that does not answer gets this one attempt, bounded by the read timeout: trying again
    would only wait again (the lock is then left: ``cluster --unlock`` breaks it)."""
    if key < 0:
        return
    for _ in range(attempts):
        try:
            remove_field(session, key)
            return
        except NoAnswer:
            return
        except ConnectionFailed:
            continue
        except Exception:   # gone already (broken by --unlock, or our lost first attempt): done
            return


@contextmanager
def held(session, path: str) -> Iterator[bool]:
    """The file's lock for the run; yields False when the server's custom attributes are unusable
    (the run then goes on unprotected: the caller says so)."""
    key = acquire(session, path)
    try:
        yield key != UNUSABLE
    finally:
        release(session, key)


def break_lock(session, path: str) -> str | None:
    """Remove the file's lock; the holder it named, or None when there was no lock."""
    name = lock_name(path)
    key = field_keys(session).get(name)
    if key is None:
        return None
    holder = _held_by(session, key)
    remove_field(session, key)
    return holder
