"""connect_timeout and read_timeout: vCenter.conf keys, VHPC_* variables and the global flags."""
from __future__ import annotations

import pytest

from vhpc_toolkit.cli.parser import UsageError, build_parser
from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.settings import load_settings

ENV = {"VHPC_SERVER": "vc", "VHPC_USERNAME": "u", "VHPC_PASSWORD": "p"}


def load(tmp_path, text="", env=None):
    conf = tmp_path / "vCenter.conf"
    conf.write_text(text)
    conf.chmod(0o600)
    return load_settings(str(conf), {**ENV, **(env or {})}, interactive=False)


def test_defaults_file_and_environment(tmp_path):
    s = load(tmp_path)
    assert (s.connect_timeout, s.read_timeout) == (15.0, 120.0)
    s = load(tmp_path, "connect_timeout: 3\nread_timeout: '45.5'\n")
    assert (s.connect_timeout, s.read_timeout) == (3.0, 45.5)
    s = load(tmp_path, "connect_timeout: 3\n", {"VHPC_CONNECT_TIMEOUT": "7"})
    assert s.connect_timeout == 7.0


@pytest.mark.parametrize("value", ["0", "-1", "nan", ".inf", "yes", "'ten'", "3601"])
def test_bad_timeouts_are_one_line(tmp_path, value):
    with pytest.raises(SettingsError, match="connect_timeout must be a number of seconds") as err:
        load(tmp_path, f"connect_timeout: {value}\n")
    assert "\n" not in str(err.value)


def test_flags(capsys):
    args = build_parser("view").parse_args(["--connect-timeout", "2", "view", "--read-timeout", "9"])
    assert (args.connect_timeout, args.read_timeout) == (2.0, 9.0)
    with pytest.raises(UsageError, match="timeout .seconds. must be at least"):
        build_parser("view").parse_args(["--read-timeout", "0", "view"])
