"""Unit tests of vhpc_toolkit.settings: search order, precedence, parsing, prompt, secrecy."""
from __future__ import annotations

import types
from pathlib import Path

import hvac.exceptions
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from vhpc_toolkit.errors import InputError, SettingsError
from vhpc_toolkit.settings import VCenterSettings, find_conf_file, load_settings
from vhpc_toolkit.settings import loader as loader_mod
from vhpc_toolkit.settings.vault import normalise_secret_path, read_vault_secret

SECRET = "S3cr3t-Pa55!word"


@pytest.fixture
def dirs(tmp_path):
    """Isolated cwd, home and package-config locations."""
    d = types.SimpleNamespace(
        cwd=tmp_path / "cwd", home=tmp_path / "home", pkg=tmp_path / "pkg" / "vCenter.conf",
        root=tmp_path,
    )
    d.cwd.mkdir()
    d.home.mkdir()
    return d


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(dirs, env=None, explicit=None, **kw):
    kw.setdefault("interactive", False)
    return load_settings(explicit, env or {}, cwd=dirs.cwd, home=dirs.home,
                         package_conf=dirs.pkg, **kw)


def find(dirs, env=None, explicit=None):
    return find_conf_file(explicit, env or {}, dirs.cwd, dirs.home, package_conf=dirs.pkg)


FULL = f"server: vc.file\nusername: file-user\npassword: {SECRET}\n"


# ------------------------------------------------------------------ search order

def test_settings_error_is_an_input_error():
    assert issubclass(SettingsError, InputError)


def test_explicit_path_beats_env_cwd_and_home(dirs):
    explicit = write(dirs.root / "x" / "my.conf", FULL)
    env_conf = write(dirs.root / "env.conf", FULL)
    write(dirs.cwd / "vCenter.conf", FULL)
    write(dirs.home / "vhpc_toolkit" / "vCenter.conf", FULL)
    assert find(dirs, {"VHPC_VCENTER_CONF": str(env_conf)}, str(explicit)) == explicit


def test_explicit_path_missing_is_an_error_naming_it(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    with pytest.raises(SettingsError, match=r"nope\.conf \(--vcenter-conf\) does not exist"):
        find(dirs, explicit=str(dirs.root / "nope.conf"))


def test_env_conf_beats_cwd_and_home(dirs):
    env_conf = write(dirs.root / "env.conf", FULL)
    write(dirs.cwd / "vCenter.conf", FULL)
    write(dirs.home / "vhpc_toolkit" / "vCenter.conf", FULL)
    assert find(dirs, {"VHPC_VCENTER_CONF": str(env_conf)}) == env_conf


def test_env_conf_missing_is_an_error_naming_the_variable(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    with pytest.raises(SettingsError, match="VHPC_VCENTER_CONF"):
        find(dirs, {"VHPC_VCENTER_CONF": str(dirs.root / "gone.conf")})


def test_cwd_conf_beats_home_conf(dirs):
    cwd_conf = write(dirs.cwd / "vCenter.conf", FULL)
    write(dirs.home / "vhpc_toolkit" / "vCenter.conf", FULL)
    assert find(dirs) == cwd_conf


def test_home_conf_beats_package_conf(dirs):
    home_conf = write(dirs.home / "vhpc_toolkit" / "vCenter.conf", FULL)
    write(dirs.pkg, FULL)
    assert find(dirs) == home_conf


def test_package_conf_is_the_last_resort(dirs):
    write(dirs.pkg, FULL)
    assert find(dirs) == dirs.pkg


def test_no_conf_anywhere_gives_none(dirs):
    assert find(dirs) is None


def test_package_conf_default_is_inside_the_package():
    assert loader_mod.PACKAGE_CONF.parts[-3:] == ("vhpc_toolkit", "config", "vCenter.conf")


def test_home_defaults_to_HOME_from_env(dirs):
    home_conf = write(dirs.home / "vhpc_toolkit" / "vCenter.conf", FULL)
    got = find_conf_file(None, {"HOME": str(dirs.home)}, dirs.cwd, None, package_conf=dirs.pkg)
    assert got == home_conf


def test_load_uses_the_found_file_and_records_source(dirs):
    conf = write(dirs.cwd / "vCenter.conf", FULL)
    s = load(dirs)
    assert (s.server, s.username, s.password) == ("vc.file", "file-user", SECRET)
    assert s.source == str(conf)


# ------------------------------------------------------------------ file values

def test_port_defaults_to_443(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    assert load(dirs).port == 443


@pytest.mark.parametrize("text,port", [("port: 8443", 8443), ("port: '9443'", 9443)])
def test_port_from_file(dirs, text, port):
    write(dirs.cwd / "vCenter.conf", FULL + text + "\n")
    assert load(dirs).port == port


@pytest.mark.parametrize("text", ["port: 0", "port: 70000", "port: https", "port: yes"])
def test_bad_port_in_file_is_an_error(dirs, text):
    write(dirs.cwd / "vCenter.conf", FULL + text + "\n")
    with pytest.raises(SettingsError, match="port must be a port number"):
        load(dirs)


def test_relative_ca_file_resolves_against_the_conf_folder_not_cwd(dirs):
    conf = write(dirs.root / "etc" / "vCenter.conf", FULL + "ca_file: certs/vc.pem\n")
    ca = write(dirs.root / "etc" / "certs" / "vc.pem", "PEM")
    write(dirs.cwd / "certs" / "vc.pem", "decoy")
    assert load(dirs, explicit=str(conf)).ca_file == str(ca)


def test_absolute_ca_file_is_kept(dirs):
    ca = write(dirs.root / "abs.pem", "PEM")
    write(dirs.cwd / "vCenter.conf", FULL + f"ca_file: {ca}\n")
    assert load(dirs).ca_file == str(ca)


def test_missing_ca_file_is_an_error_naming_it(dirs):
    write(dirs.cwd / "vCenter.conf", FULL + "ca_file: nothere.pem\n")
    with pytest.raises(SettingsError, match=r"nothere\.pem .*does not exist"):
        load(dirs)


@pytest.mark.parametrize("word,value", [
    ("yes", True), ("no", False), ("true", True), ("false", False), ("1", True), ("0", False),
    ("'yes'", True), ("'FALSE'", False), ("'1'", True), ("'0'", False),
])
def test_insecure_bool_words(dirs, word, value):
    write(dirs.cwd / "vCenter.conf", FULL + f"insecure: {word}\n")
    assert load(dirs).insecure is value


def test_insecure_defaults_to_false_and_ca_file_to_none(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    s = load(dirs)
    assert s.insecure is False and s.ca_file is None


def test_bad_insecure_word_is_an_error(dirs):
    write(dirs.cwd / "vCenter.conf", FULL + "insecure: maybe\n")
    with pytest.raises(SettingsError, match="insecure must be yes/no"):
        load(dirs)


def test_bad_yaml_reports_file_and_line(dirs):
    conf = write(dirs.cwd / "vCenter.conf", "server: vc\nusername: [unclosed\npassword: x\n")
    with pytest.raises(SettingsError) as err:
        load(dirs)
    msg = str(err.value)
    assert str(conf) in msg and "line " in msg
    assert "\n" not in msg


def test_bad_yaml_line_number_is_the_offending_line(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc\nusername: u\npassword: a: b\n")
    with pytest.raises(SettingsError, match=r"vCenter\.conf, line 3: "):
        load(dirs)


@pytest.mark.parametrize("text,kind", [("- a\n- b\n", "list"), ("just words\n", "string")])
def test_non_mapping_file_is_an_error(dirs, text, kind):
    conf = write(dirs.cwd / "vCenter.conf", text)
    with pytest.raises(SettingsError, match=f"must be a YAML mapping.*not a {kind}") as err:
        load(dirs)
    assert str(conf) in str(err.value)


def test_unknown_key_is_an_error_naming_it(dirs):
    write(dirs.cwd / "vCenter.conf", FULL + "passwrd: x\n")
    with pytest.raises(SettingsError, match="unknown setting.*passwrd"):
        load(dirs)


@pytest.mark.parametrize("line", ["username: no", "username: 123", "server: [a, b]"])
def test_non_string_values_are_refused(dirs, line):
    key = line.split(":")[0]
    base = "\n".join(l for l in FULL.splitlines() if not l.startswith(key + ":"))
    write(dirs.cwd / "vCenter.conf", base + "\n" + line + "\n")
    with pytest.raises(SettingsError, match=f"{key} must be a string"):
        load(dirs)


def test_numeric_yaml_password_is_refused_without_showing_it(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc\nusername: u\npassword: 0123\n")
    with pytest.raises(SettingsError, match="password must be a string") as err:
        load(dirs)
    message = str(err.value).replace(str(dirs.root), "<tmp>")  # the tmp path may contain digits
    assert "0123" not in message and "83" not in message


def test_comments_and_blank_values_are_ignored(dirs):
    write(dirs.cwd / "vCenter.conf",
          "# vCenter configuration\nserver: vc\nusername: u\npassword:\nport:\n")
    s = load(dirs, {"VHPC_PASSWORD": "p"})
    assert (s.server, s.password, s.port) == ("vc", "p", 443)


# ------------------------------------------------------------------ environment

def test_vhpc_env_overrides_every_file_value(dirs):
    ca = write(dirs.cwd / "env-ca.pem", "PEM")
    write(dirs.cwd / "vCenter.conf", FULL + "port: 8443\ninsecure: no\n")
    env = {"VHPC_SERVER": "vc.env", "VHPC_PORT": "9443", "VHPC_USERNAME": "env-user",
           "VHPC_PASSWORD": "env-pw", "VHPC_CA_FILE": "env-ca.pem", "VHPC_INSECURE": "yes"}
    s = load(dirs, env)
    assert (s.server, s.port, s.username, s.password, s.ca_file, s.insecure) == (
        "vc.env", 9443, "env-user", "env-pw", str(ca), True)


def test_file_beats_govc(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    env = {"GOVC_URL": "https://gu:gp@vc.govc/sdk", "GOVC_USERNAME": "gu2",
           "GOVC_PASSWORD": "gp2"}
    s = load(dirs, env)
    assert (s.server, s.username, s.password) == ("vc.file", "file-user", SECRET)


def test_govc_fills_values_the_file_lacks(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc.file\n")
    s = load(dirs, {"GOVC_USERNAME": "gu", "GOVC_PASSWORD": "gp", "GOVC_INSECURE": "1"})
    assert (s.server, s.username, s.password, s.insecure) == ("vc.file", "gu", "gp", True)


def test_vhpc_beats_govc_without_a_file(dirs):
    s = load(dirs, {"VHPC_SERVER": "vc.v", "VHPC_USERNAME": "vu", "VHPC_PASSWORD": "vp",
                    "GOVC_URL": "gu:gp@vc.g:1234"})
    assert (s.server, s.username, s.password, s.port) == ("vc.v", "vu", "vp", 443)


def test_govc_url_port_is_not_paired_with_another_server(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    assert load(dirs, {"GOVC_URL": "vc.other:8443"}).port == 443


def test_environment_alone_suffices_and_source_says_so(dirs):
    s = load(dirs, {"VHPC_SERVER": "vc", "VHPC_USERNAME": "u", "VHPC_PASSWORD": "p"})
    assert s.source == "environment"
    assert (s.server, s.username, s.password, s.port) == ("vc", "u", "p", 443)


@pytest.mark.parametrize("url,server,port,user,password", [
    ("vc.example", "vc.example", 443, None, None),
    ("vc.example:8443", "vc.example", 8443, None, None),
    ("https://vc.example/sdk", "vc.example", 443, None, None),
    ("https://admin%40vsphere.local:p%40ss%3Aw@vc.example:9443/sdk",
     "vc.example", 9443, "admin@vsphere.local", "p@ss:w"),
    ("user:pw@10.0.0.5", "10.0.0.5", 443, "user", "pw"),
])
def test_govc_url_forms(dirs, url, server, port, user, password):
    env = {"GOVC_URL": url, "GOVC_USERNAME": "fallback-user", "GOVC_PASSWORD": "fallback-pw"}
    if user:
        del env["GOVC_USERNAME"], env["GOVC_PASSWORD"]
    s = load(dirs, env)
    assert (s.server, s.port) == (server, port)
    assert s.username == (user or "fallback-user")
    assert s.password == (password or "fallback-pw")


def test_govc_username_and_password_override_url_userinfo(dirs):
    s = load(dirs, {"GOVC_URL": "https://u1:p1@vc/sdk", "GOVC_USERNAME": "u2",
                    "GOVC_PASSWORD": "p2"})
    assert (s.username, s.password) == ("u2", "p2")


def test_govc_tls_ca_certs_fills_ca_file(dirs):
    ca = write(dirs.cwd / "govc-ca.pem", "PEM")
    s = load(dirs, {"GOVC_URL": "u:p@vc", "GOVC_TLS_CA_CERTS": str(ca)})
    assert s.ca_file == str(ca)


def test_file_ca_file_beats_govc_tls_ca_certs(dirs):
    file_ca = write(dirs.cwd / "file.pem", "PEM")
    govc_ca = write(dirs.cwd / "govc.pem", "PEM")
    write(dirs.cwd / "vCenter.conf", FULL + f"ca_file: {file_ca}\n")
    assert load(dirs, {"GOVC_TLS_CA_CERTS": str(govc_ca)}).ca_file == str(file_ca)


def test_bad_govc_url_port_error_hides_the_password(dirs):
    with pytest.raises(SettingsError, match="GOVC_URL is not a valid") as err:
        load(dirs, {"GOVC_URL": f"https://u:{SECRET}@vc:notaport/sdk"})
    assert SECRET not in str(err.value)


@pytest.mark.parametrize("name,value", [("VHPC_PORT", "abc"), ("VHPC_INSECURE", "perhaps")])
def test_bad_env_values_name_the_variable(dirs, name, value):
    env = {"VHPC_SERVER": "vc", "VHPC_USERNAME": "u", "VHPC_PASSWORD": "p", name: value}
    with pytest.raises(SettingsError, match=name):
        load(dirs, env)


def test_empty_env_values_count_as_unset(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    s = load(dirs, {"VHPC_SERVER": "", "VHPC_PASSWORD": ""})
    assert (s.server, s.password) == ("vc.file", SECRET)


# ------------------------------------------------------------------ missing values

def test_missing_server_names_the_places_looked_at_and_what_to_write(dirs):
    with pytest.raises(SettingsError) as err:
        load(dirs, {"VHPC_USERNAME": "u", "VHPC_PASSWORD": "p"})
    msg, hint = str(err.value), err.value.hint
    assert msg.startswith("no vCenter settings")
    for place in (dirs.cwd / "vCenter.conf", "~/.config/vhpc_toolkit/vCenter.conf", "~/vhpc_toolkit/vCenter.conf",
                  "VHPC_SERVER", "GOVC_URL"):
        assert str(place) in msg
    # the hint is a vCenter.conf to write, and where: it loads once written there
    assert "write a vCenter.conf in ~/.config/vhpc_toolkit/" in hint and "make lab" in hint
    example = "\n".join(line[2:] for line in hint.splitlines() if line.startswith("  "))
    write(dirs.home / ".config" / "vhpc_toolkit" / "vCenter.conf", example + "\npassword: p\n")
    s = load(dirs)
    assert (s.server, s.username) == ("vcenter.example.org", "administrator@vsphere.local")


def test_xdg_config_home_is_searched_after_the_current_folder(dirs):
    xdg = write(dirs.root / "xdg" / "vhpc_toolkit" / "vCenter.conf", FULL)
    write(dirs.home / "vhpc_toolkit" / "vCenter.conf", FULL)
    assert find(dirs, {"XDG_CONFIG_HOME": str(dirs.root / "xdg")}) == xdg
    cwd = write(dirs.cwd / "vCenter.conf", FULL)
    assert find(dirs, {"XDG_CONFIG_HOME": str(dirs.root / "xdg")}) == cwd


def test_log_file_is_relative_to_the_conf_file(dirs):
    write(dirs.cwd / "vCenter.conf", FULL + "log_file: audit/changes.log\n")
    assert load(dirs).log_file == str(dirs.cwd / "audit" / "changes.log")


def test_missing_server_in_a_found_file_names_that_file(dirs):
    conf = write(dirs.cwd / "vCenter.conf", "username: u\npassword: p\n")
    with pytest.raises(SettingsError, match="no vCenter server") as err:
        load(dirs)
    assert str(conf) in str(err.value)


def test_empty_file_gives_the_missing_server_error(dirs):
    write(dirs.cwd / "vCenter.conf", "# nothing yet\n")
    with pytest.raises(SettingsError, match="no vCenter server"):
        load(dirs)


def test_missing_username_is_an_error(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc\npassword: p\n")
    with pytest.raises(SettingsError, match="no vCenter user name for vc.*VHPC_USERNAME"):
        load(dirs)


def test_no_password_non_interactive_says_where_to_set_one(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc\nusername: u\n")
    calls = []
    with pytest.raises(SettingsError) as err:
        load(dirs, interactive=False, prompt_password=lambda m: calls.append(m) or "x")
    msg = str(err.value)
    assert "no vCenter password for u@vc" in msg
    for where in ("vCenter.conf", "VHPC_PASSWORD", "Vault"):
        assert where in msg
    assert calls == []


def test_prompt_is_called_when_interactive_and_password_missing(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc\nusername: u\n")
    calls = []
    s = load(dirs, interactive=True, prompt_password=lambda m: calls.append(m) or "typed")
    assert s.password == "typed"
    assert calls == ["Password for u@vc: "]


def test_prompt_is_not_called_when_a_password_exists(dirs):
    write(dirs.cwd / "vCenter.conf", FULL)
    calls = []
    s = load(dirs, interactive=True, prompt_password=lambda m: calls.append(m) or "typed")
    assert s.password == SECRET and calls == []


def test_interactive_without_prompt_callable_is_an_error(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc\nusername: u\n")
    with pytest.raises(SettingsError, match="no vCenter password"):
        load(dirs, interactive=True, prompt_password=None)


def test_empty_prompt_answer_is_an_error(dirs):
    write(dirs.cwd / "vCenter.conf", "server: vc\nusername: u\n")
    with pytest.raises(SettingsError, match="no password entered"):
        load(dirs, interactive=True, prompt_password=lambda m: "")


# ------------------------------------------------------------------ secrecy

def test_repr_and_str_hide_the_password():
    s = VCenterSettings(server="vc", username="u", password=SECRET)
    assert SECRET not in repr(s) and SECRET not in str(s)
    assert s.password == SECRET and s.port == 443 and s.insecure is False


@hsettings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e).filter(
    lambda c: c not in "'\\"), min_size=1, max_size=40))
def test_repr_hides_any_password(tail):
    password = "PW-" + tail
    s = VCenterSettings(server="vc", username="u", password=password, source="x")
    assert password not in repr(s)


@pytest.mark.parametrize("conf,env", [
    (f"server: vc\nusername: u\npassword: {SECRET}: extra\n", {}),          # YAML error on its line
    (f"server: vc\nusername: u\npassword: {SECRET}\nport: nope\n", {}),     # bad port
    (f"server: vc\nusername: u\npassword: {SECRET}\ninsecure: sure\n", {}),  # bad bool
    (f"server: vc\nusername: u\npassword: {SECRET}\nca_file: x.pem\n", {}),  # missing CA
    (f"server: vc\npassword: {SECRET}\n", {}),                               # no username
    (f"password: {SECRET}\n", {}),                                           # no server
    (f"server: vc\nusername: u\npassword: {SECRET}\nextra: 1\n", {}),        # unknown key
    ("server: vc\nusername: u\n", {"GOVC_URL": f"u:{SECRET}@vc:x"}),         # bad GOVC_URL
    (f"server: vc\nusername: u\npassword: {SECRET}\nvault: yes\n", {}),      # no secret path
])
def test_password_never_appears_in_error_messages(dirs, conf, env):
    write(dirs.cwd / "vCenter.conf", conf)
    with pytest.raises(SettingsError) as err:
        load(dirs, env)
    assert SECRET not in str(err.value)
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------ Vault (fake client)

class FakeClient:
    """Stands in for hvac.Client; records its construction and reads."""

    instances: list = []

    def __init__(self, data=None, error=None, **kwargs):
        self.kwargs = kwargs
        self.reads = []
        self._data, self._error = data, error
        self.secrets = types.SimpleNamespace(
            kv=types.SimpleNamespace(v2=types.SimpleNamespace(read_secret_version=self._read)))

    def _read(self, path, mount_point, raise_on_deleted_version=True):
        self.reads.append((mount_point, path))
        if self._error is not None:
            raise self._error
        return {"data": {"data": dict(self._data or {}), "metadata": {}}}


def factory(data=None, error=None):
    made = []

    def make(**kwargs):
        client = FakeClient(data=data, error=error, **kwargs)
        made.append(client)
        return client

    make.made = made
    return make


README_SECRET = {"vcenter-hostname": "192.168.0.1", "vcenter-username": "mySecretUsername",
                 "vcenter-password": SECRET}
VAULT_CONF = ("vault: yes\nvault_secret_path: vCenter\nserver: vcenter-hostname\n"
              "username: vcenter-username\npassword: vcenter-password\n")
VAULT_ENV = {"VAULT_ADDR": "http://vault.test:8200", "VAULT_TOKEN": "t0k"}


def test_vault_conf_reads_key_names_from_the_secret(dirs):
    write(dirs.cwd / "vCenter.conf", VAULT_CONF)
    f = factory(README_SECRET)
    s = load(dirs, VAULT_ENV, vault_client_factory=f)
    assert (s.server, s.username, s.password) == ("192.168.0.1", "mySecretUsername", SECRET)
    assert f.made[0].reads == [("secret", "vCenter")]
    assert f.made[0].kwargs["url"] == "http://vault.test:8200"
    assert f.made[0].kwargs["token"] == "t0k"


def test_vault_cacert_is_passed_as_verify(dirs):
    ca = write(dirs.root / "vault-ca.pem", "PEM")
    f = factory({"k": "v"})
    read_vault_secret("vCenter", env={**VAULT_ENV, "VAULT_CACERT": str(ca)}, client_factory=f)
    assert f.made[0].kwargs["verify"] == str(ca)


def test_vault_verify_defaults_to_true_and_skip_verify_disables_it():
    f = factory({"k": "v"})
    read_vault_secret("vCenter", env=VAULT_ENV, client_factory=f)
    read_vault_secret("vCenter", env={**VAULT_ENV, "VAULT_SKIP_VERIFY": "true"}, client_factory=f)
    assert [c.kwargs["verify"] for c in f.made] == [True, False]


def test_missing_vault_cacert_file_is_an_error():
    with pytest.raises(SettingsError, match="VAULT_CACERT file /no/such.pem does not exist"):
        read_vault_secret("vCenter", env={**VAULT_ENV, "VAULT_CACERT": "/no/such.pem"},
                          client_factory=factory({}))


@pytest.mark.parametrize("given_path,mount,expected", [
    ("vCenter", "secret", "vCenter"), ("secret/vCenter", "secret", "vCenter"),
    ("/secret/hpc/vCenter/", "secret", "hpc/vCenter"), ("kv/vc", "kv", "vc"),
    ("secret/vc", "kv", "secret/vc"),
])
def test_secret_path_normalisation(given_path, mount, expected):
    assert normalise_secret_path(given_path, mount) == expected


def test_secret_prefix_and_vault_mount_option_reach_the_client(dirs):
    write(dirs.cwd / "vCenter.conf",
          VAULT_CONF.replace("vault_secret_path: vCenter", "vault_secret_path: kv2/hpc/vc")
          + "vault_mount: kv2\n")
    f = factory(README_SECRET)
    load(dirs, VAULT_ENV, vault_client_factory=f)
    assert f.made[0].reads == [("kv2", "hpc/vc")]


def test_vault_addr_missing_is_an_error(dirs):
    write(dirs.cwd / "vCenter.conf", VAULT_CONF)
    with pytest.raises(SettingsError, match="VAULT_ADDR is not set"):
        load(dirs, {"VAULT_TOKEN": "t"}, vault_client_factory=factory(README_SECRET))


def test_no_token_anywhere_is_an_error(dirs):
    write(dirs.cwd / "vCenter.conf", VAULT_CONF)
    with pytest.raises(SettingsError, match="no Vault token: set VAULT_TOKEN"):
        load(dirs, {"VAULT_ADDR": "http://v:8200"}, vault_client_factory=factory(README_SECRET))


def test_token_file_in_home_is_used_when_VAULT_TOKEN_is_unset(dirs):
    write(dirs.cwd / "vCenter.conf", VAULT_CONF)
    write(dirs.home / ".vault-token", "from-file\n")
    f = factory(README_SECRET)
    load(dirs, {"VAULT_ADDR": "http://v:8200"}, vault_client_factory=f)
    assert f.made[0].kwargs["token"] == "from-file"


def test_vault_yes_without_secret_path_is_an_error(dirs):
    write(dirs.cwd / "vCenter.conf", "vault: yes\nserver: a\nusername: b\npassword: c\n")
    with pytest.raises(SettingsError, match="vault: yes needs vault_secret_path"):
        load(dirs, VAULT_ENV, vault_client_factory=factory(README_SECRET))


def test_vault_is_not_read_when_vhpc_env_overrides_all_three(dirs):
    write(dirs.cwd / "vCenter.conf", VAULT_CONF)
    f = factory(README_SECRET)
    s = load(dirs, {"VHPC_SERVER": "s", "VHPC_USERNAME": "u", "VHPC_PASSWORD": "p"},
             vault_client_factory=f)
    assert (s.server, s.username, s.password) == ("s", "u", "p")
    assert f.made == []


def test_vault_key_missing_lists_key_names_but_not_values(dirs):
    write(dirs.cwd / "vCenter.conf", VAULT_CONF.replace("vcenter-password", "vc-pass"))
    with pytest.raises(SettingsError) as err:
        load(dirs, VAULT_ENV, vault_client_factory=factory(README_SECRET))
    msg = str(err.value)
    assert "'vc-pass' not found in Vault secret secret/vCenter" in msg
    assert "vcenter-hostname, vcenter-password, vcenter-username" in msg
    assert SECRET not in msg and "mySecretUsername" not in msg and "192.168.0.1" not in msg


@pytest.mark.parametrize("error,pattern", [
    (hvac.exceptions.VaultDown("sealed"), "is sealed"),
    (hvac.exceptions.Forbidden("permission denied"), "denied access to secret/vCenter"),
    (hvac.exceptions.InvalidPath(), "no secret at secret/vCenter"),
    (hvac.exceptions.Unauthorized(), "rejected the token"),
    (hvac.exceptions.InternalServerError("boom\nmore"), "failed reading secret/vCenter: boom more"),
])
def test_vault_errors_become_one_line_settings_errors(error, pattern):
    with pytest.raises(SettingsError, match=pattern) as err:
        read_vault_secret("vCenter", env=VAULT_ENV, client_factory=factory(error=error))
    assert "\n" not in str(err.value)
    assert "http://vault.test:8200" in str(err.value)


def test_non_string_vault_value_is_refused_without_showing_it(dirs):
    write(dirs.cwd / "vCenter.conf", VAULT_CONF)
    with pytest.raises(SettingsError, match="'vcenter-password' .* does not hold a string") as e:
        load(dirs, VAULT_ENV,
             vault_client_factory=factory({**README_SECRET, "vcenter-password": 987654}))
    assert "987654" not in str(e.value)
