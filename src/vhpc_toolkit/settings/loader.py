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
from vhpc_toolkit.files import file_problem
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
    "log_file",
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
    log_file: Optional[str] = None     # the audit trail (audit.py); --log-file overrides it
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
    (must exist), ``./vCenter.conf``, ``$XDG_CONFIG_HOME/vhpc_toolkit/vCenter.conf``
    (``~/.config/vhpc_toolkit/``), ``~/vhpc_toolkit/vCenter.conf``, the package's
    ``vhpc_toolkit/config/vCenter.conf``.
    """
    env = os.environ if env is None else env
    for given, origin in ((explicit, "--vcenter-conf"), ((env.get(CONF_ENV) or "").strip(), CONF_ENV)):
        if given:
            path = Path(given).expanduser()
            problem = file_problem(path)
            if problem:
                raise SettingsError(f"vCenter settings file {given} ({origin}) {problem}")
            return path
    for candidate in _default_candidates(env, cwd, home, package_conf):
        if candidate.is_file():
            return candidate
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping (YAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen: Dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise SettingsError(f"{self.name}, line {line}: {key} is given twice (first on line {seen[key]}); "
                                    "keep one")
            seen.setdefault(key, line)
        return super().construct_mapping(node, deep)


def _default_candidates(
    env: Mapping[str, str],
    cwd: Optional[Path],
    home: Optional[Path],
    package_conf: Optional[Path],
) -> List[Path]:
    cwd = Path.cwd() if cwd is None else Path(cwd)
    home = _home(env) if home is None else Path(home)
    pkg = PACKAGE_CONF if package_conf is None else Path(package_conf)
    return [cwd / CONF_NAME, xdg_config_dir(env, home) / CONF_NAME, home / "vhpc_toolkit" / CONF_NAME, pkg]


def xdg_config_dir(env: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CONFIG_HOME/vhpc_toolkit``, by default ``~/.config/vhpc_toolkit``."""
    base = (env.get("XDG_CONFIG_HOME") or "").strip()
    return (Path(base).expanduser() if base and Path(base).expanduser().is_absolute() else home / ".config") \
        / "vhpc_toolkit"


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
        loader = _UniqueKeyLoader(text)
        loader.name = str(path)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
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
    values = _from_environment(env, cwd)                       # 1. VHPC_* variables
    conf = _read_conf(path) if path is not None else {}
    if path is not None:                                       # 2. the file, with Vault lookups
        _fill_from_file(values, conf, path, env, home, vault_client_factory)
    _fill_from_govc(values, env, cwd)                          # 3. govc's variables
    if not values.get("server"):
        raise _no_server(path, _default_candidates(env, cwd, home, package_conf), xdg_config_dir(env, home), home)
    _check_user_and_password(values, path, interactive, prompt_password)   # 4. checks and the prompt
    warnings = []
    password_file = values.get("_password_file")
    if password_file is not None and _readable_by_others(password_file):
        warnings.append(f"{password_file} holds a plain password and is readable by other users: "
                        f"run `chmod 600 {password_file}`, or keep the password in Vault (vault: yes)")
    return VCenterSettings(
        warnings=warnings,
        server=values["server"],
        username=values["username"],
        password=values["password"],
        port=values.get("port", DEFAULT_PORT),
        ca_file=values.get("ca_file"),
        insecure=values.get("insecure", False),
        source=str(path) if path is not None else "environment",
        connect_timeout=values.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        read_timeout=values.get("read_timeout", DEFAULT_READ_TIMEOUT),
        log_file=values.get("log_file"),
        admission=parse_admission(conf, str(path)) if path is not None else AdmissionModel(),
    )


def _from_environment(env: Mapping[str, str], cwd: Path) -> Dict[str, Any]:
    """The values the ``VHPC_*`` environment variables give."""
    values: Dict[str, Any] = {}
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
    return values


def _fill_from_govc(values: Dict[str, Any], env: Mapping[str, str], cwd: Path) -> None:
    """govc's variables fill what is still missing."""
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


MINIMAL_CONF = """server: vcenter.example.org            # your vCenter
username: administrator@vsphere.local
# password: leave it out to be asked (or set VHPC_PASSWORD, or use Vault: docs/settings.md)
# ca_file: /etc/ssl/certs/vcenter-ca.pem  # the CA of vCenter's certificate, else the system's store"""


def _no_server(path: Optional[Path], candidates: List[Path], xdg: Path, home: Path) -> SettingsError:
    """No server anywhere: say where the toolkit looked and what to write where."""
    if path is not None:
        return SettingsError(f"no vCenter server given: {path} has no server, and VHPC_SERVER and GOVC_URL "
                             f"are not set", hint=f"add to {path}:\n  server: vcenter.example.org")
    shown = [_tilde(p, home) for p in candidates[:-1]]   # the package's own file is for the original's users
    return SettingsError(
        f"no vCenter settings: no {', '.join(shown)}, and VHPC_SERVER and GOVC_URL are not set",
        hint=f"write a vCenter.conf in {_tilde(xdg, home)}/ "
             f"(or the current folder), for example:\n"
             + "\n".join("  " + line for line in MINIMAL_CONF.splitlines())
             + "\nor, in a clone of the toolkit, `make lab` starts a vCenter lab and writes ./vCenter.conf for it")


def _tilde(path: Path, home: Path) -> str:
    try:
        return "~/" + str(Path(path).relative_to(home))
    except ValueError:
        return str(path)


def _check_user_and_password(values: Dict[str, Any], path: Optional[Path], interactive: bool,
                             prompt_password: Optional[Callable[[str], str]]) -> None:
    server = values["server"]
    if not values.get("username"):
        raise SettingsError(
            f"no vCenter user name for {server}; set username in {_conf_hint(path)}, "
            f"VHPC_USERNAME or GOVC_USERNAME"
        )
    username = values["username"]
    if values.get("password"):
        return
    if interactive and prompt_password is not None:
        entered = prompt_password(f"Password for {username}@{server}: ")
        if not entered:
            raise SettingsError(f"no password entered for {username}@{server}")
        values["password"] = entered
        return
    raise SettingsError(
        f"no vCenter password for {username}@{server}; set password in "
        f"{_conf_hint(path)} (or a Vault key with vault: yes), VHPC_PASSWORD "
        f"or GOVC_PASSWORD, or run interactively to be prompted"
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
    log_file = file_str(conf, "log_file", path)
    if log_file:     # relative to the file's folder, as ca_file
        values["log_file"] = str(path.parent / Path(log_file).expanduser())

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
