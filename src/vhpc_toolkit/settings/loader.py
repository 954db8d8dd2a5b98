"""vCenter connection settings: vCenter.conf, environment, Vault, prompt.

Precedence for each value: ``VHPC_*`` environment variables, then the
vCenter.conf file (with Vault lookups when ``vault: yes``), then govc's
``GOVC_*`` variables, then (password only) an interactive prompt.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import yaml

from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.settings.admission import KEYS as ADMISSION_KEYS, AdmissionModel, parse_admission
from vhpc_toolkit.settings.govc import GovcEnv
from vhpc_toolkit.settings.timeouts import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, parse_timeout
from vhpc_toolkit.settings.values import env_value, file_str, parse_bool, parse_port, resolve_ca, yaml_type
from vhpc_toolkit.settings.vault import (
    DEFAULT_MOUNT,
    normalise_secret_path,
    pick_secret_value,
    read_vault_secret,
)

CONF_NAME = "vCenter.conf"
CONF_ENV = "VHPC_VCENTER_CONF"
DEFAULT_PORT = 443
# The original toolkit also read vhpc_toolkit/config/vCenter.conf inside the package.
PACKAGE_CONF = Path(__file__).resolve().parent.parent / "config" / CONF_NAME

KNOWN_KEYS = (
    "server",
    "port",
    "username",
    "password",
    "ca_file",
    "insecure",
    "vault",
    "vault_secret_path",
    "vault_mount",
    "connect_timeout",
    "read_timeout",
    *ADMISSION_KEYS,   # vCenter's admission costs and the clone times (settings/admission.py)
)


@dataclass
class VCenterSettings:
    """Where and how to connect to vCenter. ``repr`` never shows the password."""

    server: str
    username: str
    password: str = field(repr=False)
    port: int = DEFAULT_PORT
    ca_file: Optional[str] = None
    insecure: bool = False
    source: str = "environment"
    warnings: List[str] = field(default_factory=list)   # for the CLI to show (e.g. a readable password file)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    admission: AdmissionModel = field(default_factory=AdmissionModel)


# --------------------------------------------------------------------------- file


def find_conf_file(
    explicit: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[Path] = None,
    home: Optional[Path] = None,
    *,
    package_conf: Optional[Path] = None,
) -> Optional[Path]:
    """Return the vCenter.conf to use, or None when there is none.

    Order: ``explicit`` (``--vcenter-conf``; must exist), ``$VHPC_VCENTER_CONF``
    (must exist), ``./vCenter.conf``, ``~/vhpc_toolkit/vCenter.conf``, the
    package's ``vhpc_toolkit/config/vCenter.conf``.
    """
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise SettingsError(f"vCenter settings file {explicit} (--vcenter-conf) does not exist")
        return path
    from_env = (env.get(CONF_ENV) or "").strip()
    if from_env:
        path = Path(from_env).expanduser()
        if not path.is_file():
            raise SettingsError(f"vCenter settings file {from_env} ({CONF_ENV}) does not exist")
        return path
    for candidate in _default_candidates(env, cwd, home, package_conf):
        if candidate.is_file():
            return candidate
    return None


def _default_candidates(
    env: Mapping[str, str],
    cwd: Optional[Path],
    home: Optional[Path],
    package_conf: Optional[Path],
) -> List[Path]:
    cwd = Path.cwd() if cwd is None else Path(cwd)
    home = _home(env) if home is None else Path(home)
    pkg = PACKAGE_CONF if package_conf is None else Path(package_conf)
    return [cwd / CONF_NAME, home / "vhpc_toolkit" / CONF_NAME, pkg]


def _home(env: Mapping[str, str]) -> Path:
    value = env.get("HOME")
    return Path(value) if value else Path.home()


def _read_conf(path: Path) -> Dict[str, Any]:
    """Parse vCenter.conf; errors name the file and, if known, the line.

    Messages are built from the parser's problem description and position only,
    never from its excerpt of the file, which could show a password.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        raise SettingsError(f"{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(
            f"{path} must be a YAML mapping of settings (server: ..., username: ...), "
            f"not a {yaml_type(data)}"
        )
    unknown = [str(k) for k in data if k not in KNOWN_KEYS]
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(KNOWN_KEYS)}"
        )
    return {k: v for k, v in data.items() if v is not None}


# --------------------------------------------------------------------------- load


def load_settings(
    explicit_path: Optional[str] = None,
    env: Mapping[str, str] = os.environ,
    *,
    interactive: bool,
    prompt_password: Optional[Callable[[str], str]] = None,
    vault_client_factory: Optional[Callable[..., Any]] = None,
    cwd: Optional[Path] = None,
    home: Optional[Path] = None,
    package_conf: Optional[Path] = None,
) -> VCenterSettings:
    """Gather vCenter settings; raise :class:`SettingsError` when they are unusable.

    ``prompt_password(message)`` is called only when ``interactive`` is true and no
    password was found anywhere else. ``vault_client_factory`` replaces
    ``hvac.Client``. ``cwd``, ``home`` and ``package_conf`` replace the folders
    searched for vCenter.conf (for tests; defaults are the real ones).
    """
    cwd = Path.cwd() if cwd is None else Path(cwd)
    home = _home(env) if home is None else Path(home)
    path = find_conf_file(explicit_path, env, cwd, home, package_conf=package_conf)
    conf = _read_conf(path) if path is not None else {}

    values: Dict[str, Any] = {}

    # 1. VHPC_* environment variables.
    for key, name in (("server", "VHPC_SERVER"), ("username", "VHPC_USERNAME"),
                      ("password", "VHPC_PASSWORD")):
        value = env_value(env, name)
        if value is not None:
            values[key] = value
    if env_value(env, "VHPC_PORT") is not None:
        values["port"] = parse_port(env_value(env, "VHPC_PORT"), "VHPC_PORT")
    if env_value(env, "VHPC_INSECURE") is not None:
        values["insecure"] = parse_bool(env_value(env, "VHPC_INSECURE"), "VHPC_INSECURE")
    if env_value(env, "VHPC_CA_FILE") is not None:
        values["ca_file"] = resolve_ca(env_value(env, "VHPC_CA_FILE"), cwd, "VHPC_CA_FILE")
    for key in ("connect_timeout", "read_timeout"):
        name = "VHPC_" + key.upper()
        if env_value(env, name) is not None:
            values[key] = parse_timeout(env_value(env, name), name)

    # 2. The file, with Vault lookups for server/username/password.
    if path is not None:
        _fill_from_file(values, conf, path, env, home, vault_client_factory)

    # 3. govc's variables fill what is still missing.
    govc = GovcEnv(env)
    if "server" not in values and govc.server:
        values["server"] = govc.server
        if "port" not in values and govc.port is not None:
            values["port"] = govc.port
    for key in ("username", "password"):
        if key not in values and getattr(govc, key):
            values[key] = getattr(govc, key)
    if "insecure" not in values and govc.insecure is not None:
        values["insecure"] = govc.insecure
    if "ca_file" not in values and govc.ca_file:
        values["ca_file"] = resolve_ca(govc.ca_file, cwd, "GOVC_TLS_CA_CERTS")

    # 4. Checks and the prompt.
    looked = str(path) if path is not None else ", ".join(
        str(p) for p in _default_candidates(env, cwd, home, package_conf))
    if not values.get("server"):
        raise SettingsError(
            f"no vCenter server given; looked in {looked}, VHPC_SERVER and GOVC_URL"
        )
    server = values["server"]
    if not values.get("username"):
        raise SettingsError(
            f"no vCenter user name for {server}; set username in {_conf_hint(path)}, "
            f"VHPC_USERNAME or GOVC_USERNAME"
        )
    username = values["username"]
    if not values.get("password"):
        if interactive and prompt_password is not None:
            entered = prompt_password(f"Password for {username}@{server}: ")
            if not entered:
                raise SettingsError(f"no password entered for {username}@{server}")
            values["password"] = entered
        else:
            raise SettingsError(
                f"no vCenter password for {username}@{server}; set password in "
                f"{_conf_hint(path)} (or a Vault key with vault: yes), VHPC_PASSWORD "
                f"or GOVC_PASSWORD, or run interactively to be prompted"
            )

    warnings = []
    password_file = values.get("_password_file")
    if password_file is not None and _readable_by_others(password_file):
        warnings.append(f"{password_file} holds a plain password and is readable by other users: "
                        f"run `chmod 600 {password_file}`, or keep the password in Vault (vault: yes)")
    return VCenterSettings(
        warnings=warnings,
        server=server,
        username=username,
        password=values["password"],
        port=values.get("port", DEFAULT_PORT),
        ca_file=values.get("ca_file"),
        insecure=values.get("insecure", False),
        source=str(path) if path is not None else "environment",
        connect_timeout=values.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        read_timeout=values.get("read_timeout", DEFAULT_READ_TIMEOUT),
        admission=parse_admission(conf, str(path)) if path is not None else AdmissionModel(),
    )


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & 0o044)
    except OSError:
        return False


def _fill_from_file(
    values: Dict[str, Any],
    conf: Mapping[str, Any],
    path: Path,
    env: Mapping[str, str],
    home: Path,
    vault_client_factory: Optional[Callable[..., Any]],
) -> None:
    if "port" not in values and "port" in conf:
        values["port"] = parse_port(conf["port"], f"{path}: port")
    if "insecure" not in values and "insecure" in conf:
        values["insecure"] = parse_bool(conf["insecure"], f"{path}: insecure")
    for key in ("connect_timeout", "read_timeout"):
        if key not in values and key in conf:
            values[key] = parse_timeout(conf[key], f"{path}: {key}")
    if "ca_file" not in values:
        ca = file_str(conf, "ca_file", path)
        if ca:
            values["ca_file"] = resolve_ca(ca, path.parent, f"ca_file in {path}")

    use_vault = parse_bool(conf["vault"], f"{path}: vault") if "vault" in conf else False
    wanted: List[Tuple[str, str]] = []
    for key in ("server", "username", "password"):
        if key in values:
            continue
        value = file_str(conf, key, path)
        if value is None:
            continue
        if use_vault:
            wanted.append((key, value))
        else:
            values[key] = value
            if key == "password":
                values["_password_file"] = path
    if not (use_vault and wanted):
        return

    secret_path = file_str(conf, "vault_secret_path", path)
    if not secret_path:
        raise SettingsError(f"{path}: vault: yes needs vault_secret_path (e.g. vCenter)")
    mount = file_str(conf, "vault_mount", path) or DEFAULT_MOUNT
    mount = mount.strip("/") or DEFAULT_MOUNT
    secret = read_vault_secret(
        secret_path, mount, env, client_factory=vault_client_factory, home=home
    )
    where = f"{mount}/{normalise_secret_path(secret_path, mount)}"
    for key, key_name in wanted:
        values[key] = pick_secret_value(secret, key_name, where)


def _conf_hint(path: Optional[Path]) -> str:
    return str(path) if path is not None else "vCenter.conf"
