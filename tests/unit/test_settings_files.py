"""A settings file that is no file (a folder, a FIFO, /dev/null) gets a precise one-line error, never
"does not exist" or a hang; a key given twice in vCenter.conf is an error, not the last one winning."""
from __future__ import annotations

import os
import re

import pytest

from vhpc_toolkit.cli.main import main
from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.settings import load_settings

CONF = "server: vc.example\nusername: u\npassword: p\n"


@pytest.fixture
def places(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    return {"folder": (str(tmp_path / "folder"), "is a folder; give the file itself"),
            "fifo": (str(tmp_path / "fifo"), "is not a regular file (a FIFO, socket or device"),
            "null device": ("/dev/null", "is not a regular file"),
            "missing": (str(tmp_path / "nope.conf"), "does not exist")}


def test_vcenter_conf_that_is_no_file_says_what_it_is(places, tmp_path, capsys):
    for name, (path, words) in places.items():
        with pytest.raises(SettingsError, match=re.escape(f"{path} (--vcenter-conf) {words}")):
            load_settings(path, {}, interactive=False)
        with pytest.raises(SettingsError, match=re.escape(f"{path} (VHPC_VCENTER_CONF) {words}")):
            load_settings(None, {"VHPC_VCENTER_CONF": path}, interactive=False)
        conf = tmp_path / "ca.conf"
        conf.write_text(CONF + f"ca_file: {path}\n")
        with pytest.raises(SettingsError, match=f"CA file {re.escape(path)} .*{re.escape(words)}"):
            load_settings(str(conf), {}, interactive=False)
        assert main(["--vcenter-conf", path, "view"]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and words in err, (name, err)


def test_vault_files_that_are_no_file(places, tmp_path):
    from vhpc_toolkit.settings.vault import _token, _verify

    path, words = places["folder"]
    with pytest.raises(SettingsError, match=re.escape(f"VAULT_CACERT file {path} {words}")):
        _verify({"VAULT_CACERT": path})
    (tmp_path / "home" / ".vault-token").mkdir(parents=True)
    with pytest.raises(SettingsError, match="Vault token file .*is a folder"):
        _token({}, tmp_path / "home")


@pytest.mark.parametrize("text, line, first, key", [
    (CONF + "password: Zq9secret\n", 4, 3, "password"),
    ("server: a\nport: 443\nusername: u\nport: 444\npassword: p\n", 4, 2, "port")])
def test_a_key_given_twice_is_an_error_naming_both_lines_never_the_value(tmp_path, text, line, first, key):
    conf = tmp_path / "vCenter.conf"
    conf.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_settings(str(conf), {}, interactive=False)
    assert str(err.value) == f"{conf}, line {line}: {key} is given twice (first on line {first}); keep one"
    assert "Zq9secret" not in str(err.value) and "444" not in str(err.value)
