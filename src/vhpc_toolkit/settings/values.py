"""Parsing single settings: yes/no, ports, strings from vCenter.conf, environment variables, CA files.

Each error names where the value came from and never shows a password."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.files import file_problem
from vhpc_toolkit.words import HINT as YES_NO_HINT, yes_no


def yaml_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def parse_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and yes_no(value) is not None:
        return yes_no(value)
    raise SettingsError(f"{what} must be yes/no ({YES_NO_HINT}), not {value!r}")


def parse_port(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise SettingsError(f"{what} must be a port number, not {value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise SettingsError(f"{what} must be a port number 1-65535, not {value!r}")
    return value


def file_str(conf: Mapping[str, Any], key: str, path: Path) -> Optional[str]:
    """A string setting from the file; other YAML types are refused.

    YAML turns unquoted ``no`` into False and ``0123`` into 83; accepting those
    silently would hand vCenter the wrong user name or password.
    """
    if key not in conf:
        return None
    value = conf[key]
    if not isinstance(value, str):
        shown = "" if key == "password" else f" (got {yaml_type(value)})"
        raise SettingsError(f"{path}: {key} must be a string; put it in quotes{shown}")
    value = value.strip() if key != "password" else value
    return value or None


def env_value(env: Mapping[str, str], name: str) -> Optional[str]:
    value = env.get(name)
    if value is None:
        return None
    if name.endswith("PASSWORD"):
        return value or None
    return value.strip() or None


def resolve_ca(value: str, base: Path, what: str) -> str:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    problem = file_problem(path)
    if problem:
        raise SettingsError(f"CA file {path} ({what}) {problem}")
    return str(path)
