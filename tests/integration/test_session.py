"""Connecting: the lab's CA verifies, another CA fails cleanly, insecure warns, bad login is one line."""
from __future__ import annotations

import subprocess

import pytest
import yaml


def _write_conf(tmp_path, lab, **over):
    conf = dict(lab.settings)
    conf.update(over)
    conf = {k: v for k, v in conf.items() if v is not None}
    path = tmp_path / "vCenter.conf"
    path.write_text(yaml.safe_dump(conf))
    path.chmod(0o600)   # a plain password readable by others would add a warning line
    return path


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 from a CA the lab does not use."""
    folder = tmp_path_factory.mktemp("ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=other CA", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "other.pem")],
                   check=True, capture_output=True)
    return folder / "other.pem"


def test_lab_ca_verifies(lab, run_cli):
    code, out, err = run_cli("--vcenter-conf", lab.conf, "--output", "json", "view")
    assert code == 0 and "HPC_Datacenter" in out and "warning" not in err


def test_other_ca_fails_with_one_line(lab, run_cli, tmp_path, other_ca):
    conf = _write_conf(tmp_path, lab, ca_file=str(other_ca))
    code, out, err = run_cli("--vcenter-conf", conf, "view")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "could not be verified" in lines[0]
    assert str(other_ca) in lines[0] and lab.settings["server"] in lines[0]


def test_system_store_does_not_trust_the_lab(lab, run_cli, tmp_path):
    conf = _write_conf(tmp_path, lab, ca_file=None)
    code, _, err = run_cli("--vcenter-conf", conf, "view")
    assert code == 1 and "could not be verified" in err and "Traceback" not in err


def test_insecure_connects_and_warns(lab, run_cli, tmp_path):
    conf = _write_conf(tmp_path, lab, ca_file=None, insecure=True)
    code, out, err = run_cli("--vcenter-conf", conf, "--output", "json", "view")
    assert code == 0 and "HPC_Datacenter" in out
    assert "NOT verified" in err


def test_wrong_password_is_one_line_and_secret_free(lab, run_cli, tmp_path):
    conf = _write_conf(tmp_path, lab, password="not-the-password-42")
    code, _, err = run_cli("--vcenter-conf", conf, "view")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "incorrect user name or password" in err and "not-the-password-42" not in err


def test_unreachable_server(lab, run_cli, tmp_path):
    conf = _write_conf(tmp_path, lab, port=1)
    code, _, err = run_cli("--vcenter-conf", conf, "view")
    assert code == 1 and "cannot reach vCenter at" in err and len(err.strip().splitlines()) == 1


def test_password_never_in_debug_output(lab, run_cli, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    code, out, err = run_cli("--vcenter-conf", lab.conf, "--debug", "--output", "json", "view")
    assert code == 0
    secret = lab.settings["password"]
    assert secret not in out and secret not in err and secret not in caplog.text


def test_view_with_credentials_held_in_vault(lab, run_cli, tmp_path, openbao, monkeypatch):
    """The original README's Vault layout: vCenter.conf names keys of a KV v2 secret."""
    openbao.put("vhpc/lab-vcenter", {"vcenter-hostname": lab.settings["server"],
                                     "vcenter-username": lab.settings["username"],
                                     "vcenter-password": lab.settings["password"]})
    conf = tmp_path / "vCenter.conf"
    conf.write_text(yaml.safe_dump({"vault": True, "vault_secret_path": "vhpc/lab-vcenter",
                                    "server": "vcenter-hostname", "username": "vcenter-username",
                                    "password": "vcenter-password", "port": lab.settings["port"],
                                    "ca_file": lab.settings["ca_file"]}))
    for key, value in openbao.env().items():
        monkeypatch.setenv(key, value)
    code, out, err = run_cli("--vcenter-conf", conf, "--output", "json", "view")
    assert code == 0, err
    assert "HPC_Datacenter" in out and lab.settings["password"] not in out + err
    monkeypatch.setenv("VAULT_TOKEN", "not-a-token")
    code, out, err = run_cli("--vcenter-conf", conf, "view")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
