"""Reading secrets from a Vault / OpenBao KV version 2 engine.

Every failure becomes a one-line :class:`SettingsError`. Secret *values* never
appear in a message; key names may.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.files import file_problem
from vhpc_toolkit.words import yes_no

DEFAULT_MOUNT = "secret"
VAULT_TIMEOUT_SECONDS = 15



def normalise_secret_path(path: str, mount: str = DEFAULT_MOUNT) -> str:
    """Return the secret path relative to ``mount``.

    ``secret/vCenter`` and ``/vCenter/`` both become ``vCenter`` when the mount
    is ``secret``.
    """
    clean = str(path).strip().strip("/")
    mount_clean = mount.strip().strip("/")
    if mount_clean and clean.startswith(mount_clean + "/"):
        clean = clean[len(mount_clean) + 1:]
    return clean.strip("/")


def _token(env: Mapping[str, str], home: Optional[Path]) -> str:
    token = (env.get("VAULT_TOKEN") or "").strip()
    if token:
        return token
    base = home if home is not None else _home_from(env)
    token_file = base / ".vault-token"
    problem = file_problem(token_file)
    if problem and problem != "does not exist":   # a folder or a FIFO there: say so, never block on it
        raise SettingsError(f"Vault token file {token_file} {problem}")
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise SettingsError(
            f"cannot read Vault token file {token_file}: {exc.strerror or exc}"
        ) from None
    if not token:
        raise SettingsError(
            f"no Vault token: set VAULT_TOKEN or log in with `bao login` / "
            f"`vault login` (which writes {token_file})"
        )
    return token


def _home_from(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _verify(env: Mapping[str, str]) -> Any:
    cacert = (env.get("VAULT_CACERT") or "").strip()
    if cacert:
        problem = file_problem(Path(cacert).expanduser())
        if problem:
            raise SettingsError(f"VAULT_CACERT file {cacert} {problem}")
        return str(Path(cacert).expanduser())
    if yes_no(env.get("VAULT_SKIP_VERIFY") or ""):
        return False
    return True


def read_vault_secret(
    path: str,
    mount: str = DEFAULT_MOUNT,
    env: Mapping[str, str] = os.environ,
    *,
    client_factory: Optional[Callable[..., Any]] = None,
    home: Optional[Path] = None,
) -> dict:
    """Read the KV v2 secret at ``mount``/``path`` and return its key/value data.

    Uses ``VAULT_ADDR``, ``VAULT_TOKEN`` (else ``~/.vault-token``),
    ``VAULT_CACERT`` (passed to hvac as ``verify=``), ``VAULT_SKIP_VERIFY`` and
    ``VAULT_NAMESPACE`` from ``env``. ``client_factory`` replaces
    ``hvac.Client`` (it gets the same keyword arguments); ``home`` replaces the
    home folder used for ``.vault-token``.
    """
    import hvac  # imported here: only Vault users pay for it

    mount = (mount or DEFAULT_MOUNT).strip().strip("/") or DEFAULT_MOUNT
    rel = normalise_secret_path(path, mount)
    if not rel:
        raise SettingsError("Vault secret path is empty")
    where = f"{mount}/{rel}"

    addr = (env.get("VAULT_ADDR") or "").strip()
    if not addr:
        raise SettingsError(
            f"VAULT_ADDR is not set; export VAULT_ADDR=https://HOST:8200 to read "
            f"Vault secret {where}"
        )
    kwargs: dict = {
        "url": addr,
        "token": _token(env, home),
        "verify": _verify(env),
        "timeout": VAULT_TIMEOUT_SECONDS,
    }
    namespace = (env.get("VAULT_NAMESPACE") or "").strip()
    if namespace:
        kwargs["namespace"] = namespace

    factory = client_factory or hvac.Client
    try:
        client = factory(**kwargs)
        response = client.secrets.kv.v2.read_secret_version(
            path=rel, mount_point=mount, raise_on_deleted_version=True
        )
    except Exception as exc:
        problem = _vault_problem(exc, addr, where, mount)
        if problem is None:
            raise
        raise SettingsError(problem) from None

    try:
        data = response["data"]["data"]
    except (KeyError, TypeError):
        data = None
    if not isinstance(data, dict):
        raise SettingsError(
            f"Vault secret {where} is not a KV version 2 secret with key/value data"
        )
    return dict(data)


def _vault_problem(exc: Exception, addr: str, where: str, mount: str) -> Optional[str]:
    """One line for what went wrong reading a Vault secret, or None for an error that is not Vault's."""
    import hvac.exceptions as hv
    import requests.exceptions as rq

    if isinstance(exc, hv.Forbidden):
        return (f"Vault at {addr} denied access to {where} (permission denied); the "
                f"token is invalid or expired, or its policy does not allow reading it")
    if isinstance(exc, hv.Unauthorized):
        return f"Vault at {addr} rejected the token (unauthorized) reading {where}"
    if isinstance(exc, hv.InvalidPath):
        return (f"no secret at {where} in Vault at {addr} (is the KV v2 engine "
                f"mounted at {mount}/ and the path right?)")
    if isinstance(exc, hv.VaultDown):
        return f"Vault at {addr} is sealed; unseal it first"
    if isinstance(exc, hv.VaultError):
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return f"Vault at {addr} failed reading {where}: {detail}"
    if isinstance(exc, rq.SSLError):   # before ConnectionError, which it is too
        return f"TLS verification of Vault at {addr} failed; set VAULT_CACERT to its CA certificate"
    if isinstance(exc, (rq.ConnectionError, rq.Timeout)):
        return f"Vault at {addr} is unreachable"
    if isinstance(exc, (rq.MissingSchema, rq.InvalidSchema, rq.InvalidURL)):
        return f"VAULT_ADDR {addr!r} is not a valid URL (expected e.g. https://HOST:8200)"
    return None


def pick_secret_value(secret: Mapping[str, Any], key: str, where: str) -> str:
    """Return ``secret[key]`` as a string, or raise naming the key (never values)."""
    if key not in secret:
        available = ", ".join(sorted(str(k) for k in secret)) or "none"
        raise SettingsError(
            f"key {key!r} not found in Vault secret {where} (keys there: {available})"
        )
    value = secret[key]
    if not isinstance(value, str):
        raise SettingsError(
            f"key {key!r} in Vault secret {where} does not hold a string"
        )
    return value
