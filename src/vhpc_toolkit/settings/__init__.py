"""vCenter connection settings (vCenter.conf, environment, Vault, prompt)."""
from vhpc_toolkit.settings.loader import (
    CONF_ENV,
    DEFAULT_PORT,
    VCenterSettings,
    find_conf_file,
    load_settings,
)
from vhpc_toolkit.settings.vault import read_vault_secret

__all__ = [
    "CONF_ENV",
    "DEFAULT_PORT",
    "VCenterSettings",
    "find_conf_file",
    "load_settings",
    "read_vault_secret",
]
