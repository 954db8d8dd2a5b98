"""A guest password never appears in any output: every error path of the cluster-file parser is run
with a marker password in every place a file can hold it, through the parser and through the CLI
(text, JSON, --debug)."""
from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vhpc_toolkit.cli.main import main
from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_text
from vhpc_toolkit.output.cluster.plan import plan_document

MARK = "S3cr3tMrk"

# Passwords that look like ranges, lists, quotes or pairs, or hold a space.
PASSWORDS = [MARK, MARK + "{1:2}", "{{1:3}}" + MARK, "{1:2}" + MARK + "{1:2}", MARK + "[", "[" + MARK,
             MARK + "]x", "]" + MARK, MARK + "}", "{" + MARK, "'" + MARK, '"' + MARK + '"', MARK + ":{3:1}",
             "[" + MARK + "']", MARK + " " + MARK, MARK + " x", "a " + MARK, MARK + "{1:99999999}",
             "{" + MARK + ":1}", MARK + "{{1:2}}{1:2}"]

BASE = "[B]\ntemplate: t\n"
# Where a password can be written, and other mistakes around it so that every error path runs.
PLACES = {
    "section": "[P]\nguest_password: {pw}\n" + BASE + "[_VMS_]\nvm{{1:2}}: B P\n",
    "section, bad file": "[P]\nguest_password: {pw}\ncpus: 2\n" + BASE + "[_VMS_]\nvm{{1:2}}: B P NOPE ip: x\n",
    "definition": BASE + "[_VMS_]\nvm{{1:2}}: B guest_password: {pw}\n",
    "definition, one token": BASE + "[_VMS_]\nvm{{1:2}}: B guest_password:{pw}\n",
    "definition, more after": BASE + "[_VMS_]\nvm{{1:2}}: B guest_password: {pw} cpu: x\n",
    "definition, no colon": BASE + "[_VMS_]\nvm1: B guest_password {pw}\n",
    "definition, upper case": BASE + "[_VMS_]\nvm1: B GUEST_PASSWORD: {pw}\n",
    "outside sections": "guest_password: {pw}\n" + BASE + "[_VMS_]\nvm1: B\n",
    "section, no colon": "[P]\nguest_password {pw}\n" + BASE + "[_VMS_]\nvm1: B P\n",
    "section, two words, no colon": "[P]\nguest_password x {pw}:y\n" + BASE + "[_VMS_]\nvm1: B P\n",
    "definition without a name": BASE + "[_VMS_]\n: guest_password: {pw}\n",
    "switch": "[_SVS_]\ns1: pnic: vmnic4 host: h guest_password: {pw}\n",
    "twice in a section": "[P]\nguest_password: {pw}\nguest_password: {pw}\n" + BASE + "[_VMS_]\nvm1: B P\n",
    "bad header after": "[P]\nguest_password: {pw}\n[B\n[_VMS_]\nvm1: P\n",
    "duplicate IPs": "[P]\nguest_password: {pw}\nip: 10.0.0.1\n" + BASE + "[_VMS_]\nvm{{1:2}}: B P\n",
}


def outputs_of(text: str) -> str:
    """Everything the parser says about ``text``: its problems, or the plan (JSON) and the specs' repr."""
    try:
        spec = parse_cluster_text(text, "f.conf", base_dir="/nonexistent", check_scripts=False)
    except ClusterFileError as exc:
        return "\n".join(exc.problems) + str(exc) + repr(exc)
    return json.dumps(plan_document(spec)) + repr(spec)


def assert_no_secret(text: str, where: str = "") -> None:
    assert MARK.lower() not in text.lower(), f"the password is shown {where}:\n{text}"


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("password", PASSWORDS)
def test_no_parser_output_shows_the_password(place, password):
    assert_no_secret(outputs_of(PLACES[place].format(pw=password)))


@pytest.fixture
def no_vcenter(tmp_path, monkeypatch):
    """No vCenter settings reach the CLI: not ./vCenter.conf, ~/.config/vhpc_toolkit/, ~/vhpc_toolkit/ or
    the package's file, nor VHPC_* or govc's GOVC_* variables (cluster --create must not find a real vCenter)."""
    import os

    from vhpc_toolkit.settings import loader

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setattr(loader, "PACKAGE_CONF", tmp_path / "no-package" / loader.CONF_NAME)
    for name in list(os.environ):
        if name.startswith(("VHPC_", "GOVC_")):
            monkeypatch.delenv(name)
    assert loader.find_conf_file() is None


@pytest.mark.parametrize("place", PLACES)
def test_the_cli_shows_no_password_in_text_json_or_debug(place, tmp_path, capsys, caplog, no_vcenter):
    caplog.set_level(logging.DEBUG)
    for password in PASSWORDS:
        f = tmp_path / "c.conf"
        f.write_text(PLACES[place].format(pw=password))
        for argv in (["cluster", "--plan", "--file", str(f)],
                     ["--output", "json", "cluster", "--plan", "--file", str(f)],
                     ["--debug", "cluster", "--plan", "--file", str(f)],
                     ["--debug", "--output", "json", "cluster", "--create", "--file", str(f)]):
            main(argv)
            captured = capsys.readouterr()
            assert_no_secret(captured.out + captured.err + caplog.text, f"by {' '.join(argv[:3])} ({place})")
            caplog.clear()


def test_a_password_that_looks_like_a_range_is_taken_as_written():
    spec = parse_cluster_text(BASE + "[P]\nguest_password: a{1:2}[\n[_VMS_]\nvm{1:2}: B P guest_password: x\n"
                              "w1: B P\n", "f.conf")
    assert [vm.guest_password for vm in spec.vms] == ["x", "x", "a{1:2}["]
    assert "a{1:2}[" not in repr(spec) and spec.vms[2].to_dict()["guest_password"] == "********"


LINE = st.sampled_from([
    "[B]", "[P]", "[_VMS_]", "[_SVS_]", "[_DVS_]", "template: t", "cpu: {1:2}", "ip: 10.0.0.{1:3}", "host: h{1:9}",
    "vm{1:2}: B P", "vm1: B", "x{1:3}: P guest_password: {pw} ip: 1.2.3.{1:3}", "s: pnic: v host: h{1:2}",
    "guest_password: {pw}", "guest_password {pw}", "vm2: B guest_password: {pw} NOPE", "[", "]", "{", ":",
    "vm3: guest_password: {pw} [", "vm4: guest_password:{pw} 'x", "dns: ['1.1.1.1'", "vm5: P ip: 10.0.0.{1:2}",
])
PASSWORD = st.one_of(st.sampled_from(PASSWORDS), st.builds(
    lambda a, b: a + MARK + b, st.text("{}[]:'\"0123456789", max_size=6), st.text("{}[]:'\"12", max_size=6)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, min_size=1, max_size=12), password=PASSWORD)
def test_fuzz_no_error_path_shows_the_password(lines, password):
    assert_no_secret(outputs_of("\n".join(line.replace("{pw}", password) for line in lines) + "\n"))
