"""The guest OS password for post scripts: cluster file, flag, environment, Vault or a prompt."""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from vhpc_toolkit.errors import InputError

PASSWORD_ENV = "VHPC_GUEST_PASSWORD"
VAULT_PATH_ENV = "VHPC_GUEST_VAULT_PATH"
VAULT_MOUNT_ENV = "VHPC_GUEST_VAULT_MOUNT"
VAULT_KEY_ENV = "VHPC_GUEST_VAULT_KEY"
VAULT_DEFAULT_KEY = "guest_password"


def guest_password(explicit: str | None = None, env: Mapping[str, str] = os.environ,
                   prompt: Callable[[str], str] | None = None, what: str = "the guest OS",
                   vault_reader: Callable[..., dict] | None = None) -> str:
    """The guest password from the first source that has one.

    Order: ``explicit`` (cluster file's guest_password, ``--guest_password``);
    ``$VHPC_GUEST_PASSWORD``; Vault, when ``$VHPC_GUEST_VAULT_PATH`` names a
    KV v2 secret (key ``$VHPC_GUEST_VAULT_KEY``, default ``guest_password``;
    mount ``$VHPC_GUEST_VAULT_MOUNT``, default ``secret``; VAULT_ADDR and
    VAULT_TOKEN as for vCenter.conf); ``prompt`` (given only when
    interactive); else an InputError saying where it can live.
    """
    if explicit:
        return explicit
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    vault_path = (env.get(VAULT_PATH_ENV) or "").strip()
    if vault_path:
        if vault_reader is None:
            from vhpc_toolkit.settings import read_vault_secret as vault_reader
        mount = (env.get(VAULT_MOUNT_ENV) or "").strip() or "secret"
        key = (env.get(VAULT_KEY_ENV) or "").strip() or VAULT_DEFAULT_KEY
        secret = vault_reader(vault_path, mount, env)
        value = secret.get(key)
        if not value:
            raise InputError(f"Vault secret {mount}/{vault_path.strip('/')} has no key {key!r} "
                             f"(set {VAULT_KEY_ENV} to the key holding the guest password)")
        return str(value)
    if prompt is not None:
        value = prompt(f"Password for {what}: ")
        if value:
            return value
    raise InputError(f"no password for {what}: give guest_password (cluster file) or --guest_password, "
                     f"set {PASSWORD_ENV}, set {VAULT_PATH_ENV} to a Vault secret, or run interactively")


def password_source(fallback: str | None = None, env: Mapping[str, str] = os.environ,
                    prompt: Callable[[str], str] | None = None) -> Callable[[Any], str]:
    """A ``password_for(vmspec)`` for :func:`run_barriers`: the VM's own guest_password
    (cluster file), else ``fallback`` (``--guest_password``), the environment,
    Vault or the prompt, looked up once and reused for every VM."""
    cached: list[str] = []

    def password_for(spec) -> str:
        own = getattr(spec, "guest_password", None)
        if own:
            return own
        if not cached:
            cached.append(guest_password(fallback, env, prompt, what="the guest OS of the cluster's VMs"))
        return cached[0]

    return password_for
