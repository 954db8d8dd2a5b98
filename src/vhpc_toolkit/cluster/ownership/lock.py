"""One run at a time per cluster: a lock held on vCenter, named after the cluster.

The lock is a custom attribute definition ``vhpc_toolkit.lock NAME`` for folders (moType Folder):
vCenter defines a name once and refuses the second AddCustomFieldDef with DuplicateName,
atomically, for every client, so two runs of one cluster (the same file, a copy in another folder,
another machine) cannot both hold it. The holder (user, machine, process, since when, file) is the
attribute's value on the root folder, so a refused run can name it. Released
(RemoveCustomFieldDef) at the end of the run, even after a failure or Ctrl-C; a run that was killed
leaves it, and ``cluster --unlock --file F`` (or deleting the attribute in the vSphere Client)
breaks it.

A user without Global.ManageCustomFields (or a server whose custom attributes are unusable) runs
without the lock: :func:`held` says why in ``Lock.unprotected`` and the caller warns once.

API: ``with held(session, cluster, path) as lock:`` around a run; ``break_lock(session, cluster)``.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from vhpc_toolkit.errors import ConnectionFailed, NoAnswer, VhpcError
from vhpc_toolkit.vsphere.fields import (UNREADABLE, VALUE_PROP, add_field, field_keys, is_no_permission, manager,
                                         remove_field, set_value, value_of)
from vhpc_toolkit.vsphere.inventory import read_objects

LOCK_PREFIX = "vhpc_toolkit.lock "
LOCK_TYPE = "Folder"   # the holder's name is a value on the root folder


class Locked(VhpcError):
    """Another run holds the cluster's lock; nothing was changed."""


@dataclass
class Lock:
    """The lock of cluster ``cluster`` for one run: ``key`` of its definition (negative: none held);
    ``unprotected`` says why the run goes on without it."""

    cluster: str
    key: int = -1
    unprotected: str | None = None

    @property
    def locked(self) -> bool:
        return self.key >= 0


def lock_name(cluster: str) -> str:
    return LOCK_PREFIX + cluster


def user_name() -> str:
    """The local user running this (the uid where the environment has no user name)."""
    try:
        return getpass.getuser()
    except Exception:   # no user name in this environment
        return str(os.getuid())


def holder(path: str) -> str:
    """Who runs: ``user@machine pid N since TIME (file)``."""
    since = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{user_name()}@{socket.gethostname()} pid {os.getpid()} since {since} ({os.path.realpath(path)})"


NO_HOLDER = "a run that has not written its name yet"


def missing_privilege(exc: BaseException) -> str:
    return f"the vCenter user lacks the privilege {getattr(exc, 'privilegeId', None) or 'to manage custom attributes'}"


def _held_by(session, key: int) -> str:
    root = session.content.rootFolder
    try:
        obj = read_objects(session, [root], [VALUE_PROP]).get(root._moId)
    except Exception:   # unreadable: the refusal still stands
        return "an unknown holder"
    return value_of(obj, key) or NO_HOLDER


def acquire(session, cluster: str, path: str) -> Lock:
    """Take cluster ``cluster``'s lock for a run of the file at ``path``; Locked naming the holder if taken."""
    from pyVmomi import vim

    lock = Lock(cluster)
    if manager(session) is None:
        lock.unprotected = "the server has no custom attributes (no vCenter)"
        return lock
    name = lock_name(cluster)
    try:
        lock.key = add_field(session, name, LOCK_TYPE)
    except TypeError:
        # The server's answer lacks what vSphere's CustomFieldDef must hold (the stock govmomi
        # simulator omits its type): custom attributes are unusable there, and so is the lock.
        lock.unprotected = "the server's custom attributes are unusable"
        return lock
    except ConnectionFailed:
        # The answer was lost; vCenter may have made the field. One that names no holder yet is
        # taken as ours (a run that made it sets its holder at once), else the error stands.
        key = field_keys(session).get(name)
        if key is None or _held_by(session, key) != NO_HOLDER:
            raise
        lock.key = key
    except vim.fault.DuplicateName:
        keys = field_keys(session)
        if keys is UNREADABLE:
            lock.unprotected = "the server's custom attributes are unusable"
            return lock
        key = keys.get(name)
        who = _held_by(session, key) if key is not None else "a run that has just finished"
        raise Locked(f"cluster {cluster} is locked by {who} (custom attribute '{name}' on vCenter); "
                     f"nothing was changed. If that run is gone: vhpc_toolkit cluster --unlock --file {path}") \
            from None
    except Exception as exc:
        if not is_no_permission(exc):
            raise
        lock.unprotected = missing_privilege(exc)
        return lock
    try:
        set_value(session, session.content.rootFolder, lock.key, holder(path))
    except Exception:   # no Global.SetCustomField, a lost answer: the lock holds without the holder's name
        pass
    return lock


def release(session, lock: Lock, attempts: int = 3) -> None:
    """Remove the lock; a dropped connection is tried again (removing is idempotent: a lock already
    gone is refused with InvalidArgument, which ends it), so a flaky connection leaves no stale lock.
    A vCenter that does not answer gets this one attempt, bounded by the read timeout: trying again
    would only wait again (the lock is then left: ``cluster --unlock`` breaks it)."""
    if not lock.locked:
        return
    for _ in range(attempts):
        try:
            remove_field(session, lock.key)
            return
        except NoAnswer:
            return
        except ConnectionFailed:
            continue
        except Exception:   # gone already (broken by --unlock, or our lost first attempt): done
            return


@contextmanager
def held(session, cluster: str, path: str) -> Iterator[Lock]:
    """Cluster ``cluster``'s lock for the run (``lock.unprotected`` when it could not be taken)."""
    lock = acquire(session, cluster, path)
    try:
        yield lock
    finally:
        release(session, lock)


def break_lock(session, cluster: str) -> str | None:
    """Remove the cluster's lock; the holder it named, or None when there was no lock."""
    name = lock_name(cluster)
    key = field_keys(session).get(name)
    if key is None:
        return None
    who = _held_by(session, key)
    remove_field(session, key)
    return who
