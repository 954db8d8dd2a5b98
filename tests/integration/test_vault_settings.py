"""Vault-held vCenter credentials against a real OpenBao dev server."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.settings import load_settings, read_vault_secret
from tests.plugins.openbao import start_openbao

pytestmark = pytest.mark.vault

PASSWORD = "Vault-Held-Pa55!"
README_SECRET = {"vcenter-hostname": "192.168.0.1", "vcenter-username": "mySecretUsername",
                 "vcenter-password": PASSWORD}
# The original README's vCenter.conf, word for word apart from the path.
README_CONF = """# vCenter configuration
vault: yes
vault_secret_path: {path}
server: vcenter-hostname
username: vcenter-username
password: vcenter-password
"""


@pytest.fixture
def secret_path(openbao):
    """A fresh path holding the README's secret, unique to the test."""
    path = f"vCenter-{uuid.uuid4().hex[:8]}"
    openbao.put(path, README_SECRET)
    return path


def load(tmp_path: Path, conf: str, env: dict, **kw):
    conf_file = tmp_path / "vCenter.conf"
    conf_file.write_text(conf)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return load_settings(str(conf_file), env, interactive=False, cwd=tmp_path, home=home,
                         package_conf=tmp_path / "no-package.conf", **kw)


def one_line_without_secrets(err) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    assert PASSWORD not in msg and "mySecretUsername" not in msg
    return msg


def test_readme_conf_reads_credentials_from_vault(tmp_path, openbao, secret_path):
    s = load(tmp_path, README_CONF.format(path=secret_path), openbao.env())
    assert (s.server, s.username, s.password, s.port) == (
        "192.168.0.1", "mySecretUsername", PASSWORD, 443)
    assert s.source == str(tmp_path / "vCenter.conf")
    assert PASSWORD not in repr(s)


def test_secret_prefixed_path_is_accepted(tmp_path, openbao, secret_path):
    s = load(tmp_path, README_CONF.format(path=f"secret/{secret_path}"), openbao.env())
    assert s.password == PASSWORD


def test_env_override_mixes_with_vault_values(tmp_path, openbao, secret_path):
    s = load(tmp_path, README_CONF.format(path=secret_path),
             openbao.env(VHPC_SERVER="vc.override"))
    assert (s.server, s.username, s.password) == ("vc.override", "mySecretUsername", PASSWORD)


def test_read_vault_secret_returns_the_data(openbao, secret_path):
    assert read_vault_secret(secret_path, env=openbao.env()) == README_SECRET


def test_custom_mount_via_vault_mount(tmp_path, openbao):
    mount = f"kv{uuid.uuid4().hex[:6]}"
    openbao.client().sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    openbao.put("hpc/vc", README_SECRET, mount=mount)
    s = load(tmp_path, README_CONF.format(path="hpc/vc") + f"vault_mount: {mount}\n",
             openbao.env())
    assert s.server == "192.168.0.1" and s.password == PASSWORD


def test_missing_key_names_key_path_and_available_keys(tmp_path, openbao, secret_path):
    conf = README_CONF.format(path=secret_path).replace(
        "password: vcenter-password", "password: vc-password")
    with pytest.raises(SettingsError) as err:
        load(tmp_path, conf, openbao.env())
    msg = one_line_without_secrets(err)
    assert f"'vc-password' not found in Vault secret secret/{secret_path}" in msg
    assert "vcenter-hostname, vcenter-password, vcenter-username" in msg
    assert "192.168.0.1" not in msg


def test_missing_path_is_named(tmp_path, openbao):
    with pytest.raises(SettingsError) as err:
        load(tmp_path, README_CONF.format(path="does/not/exist"), openbao.env())
    msg = one_line_without_secrets(err)
    assert "no secret at secret/does/not/exist" in msg and openbao.addr in msg


def test_permission_denied_for_a_token_without_read_access(
        tmp_path, openbao, openbao_denied_token, secret_path):
    env = openbao.env(VAULT_TOKEN=openbao_denied_token)
    with pytest.raises(SettingsError) as err:
        load(tmp_path, README_CONF.format(path=secret_path), env)
    msg = one_line_without_secrets(err)
    assert f"denied access to secret/{secret_path} (permission denied)" in msg


def test_denied_token_can_read_where_its_policy_allows(openbao, openbao_denied_token):
    openbao.put("allowed/vc", {"k": "v"})
    env = openbao.env(VAULT_TOKEN=openbao_denied_token)
    assert read_vault_secret("allowed/vc", env=env) == {"k": "v"}


def test_bogus_token_is_a_one_line_error(tmp_path, openbao, secret_path):
    with pytest.raises(SettingsError) as err:
        load(tmp_path, README_CONF.format(path=secret_path), openbao.env(VAULT_TOKEN="bogus"))
    msg = one_line_without_secrets(err)
    assert openbao.addr in msg and ("denied" in msg or "rejected" in msg)


def test_unreachable_vault_names_the_address(tmp_path, unreachable_vault_addr):
    env = {"VAULT_ADDR": unreachable_vault_addr, "VAULT_TOKEN": "root"}
    with pytest.raises(SettingsError) as err:
        load(tmp_path, README_CONF.format(path="vCenter"), env)
    msg = one_line_without_secrets(err)
    assert msg == f"Vault at {unreachable_vault_addr} is unreachable"


def test_vault_addr_without_scheme_is_reported(tmp_path, openbao):
    env = {"VAULT_ADDR": openbao.addr.replace("http://", ""), "VAULT_TOKEN": "root"}
    with pytest.raises(SettingsError, match="is not a valid URL"):
        load(tmp_path, README_CONF.format(path="vCenter"), env)


def test_token_file_in_home_is_used_when_VAULT_TOKEN_unset(tmp_path, openbao, secret_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".vault-token").write_text(openbao.token + "\n")
    s = load(tmp_path, README_CONF.format(path=secret_path), {"VAULT_ADDR": openbao.addr})
    assert s.password == PASSWORD


def test_sealed_vault_is_reported(tmp_path):
    with start_openbao(tmp_path / "bao") as private:
        private.put("vCenter", README_SECRET)
        private.seal()
        with pytest.raises(SettingsError) as err:
            load(tmp_path, README_CONF.format(path="vCenter"), private.env())
    msg = one_line_without_secrets(err)
    assert msg == f"Vault at {private.addr} is sealed; unseal it first"
    assert private.proc.poll() is not None  # the private server was stopped
