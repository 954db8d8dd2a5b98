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
