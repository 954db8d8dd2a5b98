"""govc's environment variables (GOVC_URL, GOVC_USERNAME, GOVC_PASSWORD, GOVC_INSECURE,
GOVC_TLS_CA_CERTS): the last source of connection settings, so a shell set up for govc works."""
from __future__ import annotations

import os
import urllib.parse
from typing import Mapping, Optional

from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.settings.values import env_value, parse_bool


class GovcEnv:
    """Values from govc's environment variables."""

    def __init__(self, env: Mapping[str, str]):
        self.server: Optional[str] = None
        self.port: Optional[int] = None
        self.username: Optional[str] = None
        self.password: Optional[str] = None
        url = env_value(env, "GOVC_URL")
        if url:
            self._parse_url(url)
        user = env_value(env, "GOVC_USERNAME")
        if user:
            self.username = user
        password = env_value(env, "GOVC_PASSWORD")
        if password:
            self.password = password
        insecure = env_value(env, "GOVC_INSECURE")
        self.insecure = parse_bool(insecure, "GOVC_INSECURE") if insecure else None
        self.ca_file = env_value(env, "GOVC_TLS_CA_CERTS")
        if self.ca_file and os.pathsep in self.ca_file:
            raise SettingsError("GOVC_TLS_CA_CERTS lists several files; give one CA file")

    def _parse_url(self, url: str) -> None:
        # Never put the URL itself in a message: it may carry user:password.
        text = url if "://" in url else "https://" + url
        try:
            parts = urllib.parse.urlsplit(text)
            port = parts.port
        except ValueError:
            raise SettingsError("GOVC_URL is not a valid host, host:port or URL") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise SettingsError("GOVC_URL is not a valid host, host:port or https:// URL")
        self.server = parts.hostname
        self.port = port
        if parts.username:
            self.username = urllib.parse.unquote(parts.username)
        if parts.password:
            self.password = urllib.parse.unquote(parts.password)
