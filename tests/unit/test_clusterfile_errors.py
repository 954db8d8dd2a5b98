"""Every problem is reported as FILE:LINE: message, all in one run."""
from __future__ import annotations

import os

import pytest

from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_file, parse_cluster_text
from vhpc_toolkit.errors import InputError

# line 5 holds the VM definition
B = "[BASE]\ntemplate: tpl\n\n[_VMS_]\n"
RANGE_KEYS = "(only the VM name and host, datastore, port_group, ip, guest_hostname can)"


def problems(text: str, **kw):
    kw.setdefault("base_dir", "/nonexistent")
    with pytest.raises(ClusterFileError) as err:
        parse_cluster_text(text, "c.conf", **kw)
    assert str(err.value) == "\n".join(err.value.problems)
    return err.value.problems


CASES = [
    ("unknown key, near miss", B + "vm1: BASE cpus: 4",
     ["c.conf:5: VM 'vm1': cpus: unknown key (did you mean 'cpu'?)"]),
    ("unknown key, no suggestion", B + "vm1: BASE colour: red",
     ["c.conf:5: VM 'vm1': colour: unknown key"]),
    ("switch key on a VM", B + "vm1: BASE pnic: vmnic4",
     ["c.conf:5: VM 'vm1': pnic: unknown key (a switch key, not a VM key)"]),
    ("undefined section", "[NETWORK]\nport_group: pg\n" + B + "vm1: BASE NETWRK",
     ["c.conf:7: VM 'vm1': undefined section 'NETWRK' (did you mean 'NETWORK'?)"]),
    ("special section spliced", B + "vm1: BASE _VMS_",
     ["c.conf:5: VM 'vm1': section [_VMS_] cannot be used in a definition"]),
    ("bad int", B + "vm1: BASE cpu: four",
     ["c.conf:5: VM 'vm1': cpu: 'four' is not an integer"]),
    ("zero cpu", B + "vm1: BASE cpu: 0",
     ["c.conf:5: VM 'vm1': cpu: '0' must be at least 1"]),
    ("negative shares", B + "vm1: BASE cpu_shares: -5",
     ["c.conf:5: VM 'vm1': cpu_shares: '-5' must not be negative"]),
    ("bad barrier", B + "vm1: BASE barrier: first",
     ["c.conf:5: VM 'vm1': barrier: 'first' is not an integer"]),
    ("bad float", B + "vm1: BASE memory: 16GB",
     ["c.conf:5: VM 'vm1': memory: '16GB' is not a number (GB)"]),
    ("nan memory", B + "vm1: BASE memory: nan",
     ["c.conf:5: VM 'vm1': memory: 'nan' is not a number (GB)"]),
    ("bad bool", B + "vm1: BASE linked: maybe",
     ["c.conf:5: VM 'vm1': linked: 'maybe' is not a boolean (use yes/y/true/t/1/on or no/n/false/f/0/off)"]),
    ("bad ip", B + "vm1: BASE ip: 10.0.0.256",
     ["c.conf:5: VM 'vm1': ip: '10.0.0.256' is not an IPv4 address"]),
    ("bad gateway", B + "vm1: BASE gateway: gw",
     ["c.conf:5: VM 'vm1': gateway: 'gw' is not an IPv4 address"]),
    ("bad netmask", B + "vm1: BASE netmask: 255.0.255.0",
     ["c.conf:5: VM 'vm1': netmask: '255.0.255.0' is not a netmask (its bits are not contiguous)"]),
    ("bad dns item", B + "vm1: BASE dns: ['1.1.1.1', 'x']",
     ["c.conf:5: VM 'vm1': dns: 'x' is not an IPv4 address"]),
    ("list without commas", B + "vm1: BASE dns: ['1.1.1.1' '2.2.2.2']",
     ["c.conf:5: VM 'vm1': dns: \"['1.1.1.1' '2.2.2.2']\" is not a list: expected ',' at \"'2.2.2.2'\""]),
    ("code in a list", B + "vm1: BASE dns: [__import__('os').system('touch /tmp/x')]",
     ["c.conf:5: VM 'vm1': dns: \"[__import__('os').system('touch /tmp/x')]\" is not a list: "
      "cannot read \"__import__('os').system('touch\""]),
    ("unclosed list", B + "vm1: BASE dns: ['1.1.1.1'",
     ["c.conf:5: VM 'vm1': unclosed '[' in \"BASE dns: ['1.1.1.1'\""]),
    ("list in a section missing ]", "[N]\ndns: ['1.1.1.1'\n" + B + "vm1: BASE N",
     ["c.conf:2: [N] dns: \"['1.1.1.1'\" is not a list: missing ']' (used by VM 'vm1')"]),
    ("bad pci id", B + "vm1: BASE device: ['3b:00.0']",
     ["c.conf:5: VM 'vm1': device: '3b:00.0' is not a PCI id (DDDD:BB:DD.F in hex, e.g. 0000:3b:00.0)"]),
    ("bad pf function", B + "vm1: BASE pf: 0000:af:00.9",
     ["c.conf:5: VM 'vm1': pf: '0000:af:00.9' is not a PCI id (DDDD:BB:DD.F in hex, e.g. 0000:3b:00.0)"]),
    ("mmio not power of two", B + "vm1: BASE mmio_size: 100",
     ["c.conf:5: VM 'vm1': mmio_size: '100' is not a power of two"]),
    ("latency", B + "vm1: BASE latency: low",
     ["c.conf:5: VM 'vm1': latency: 'low' is not one of high, normal"]),
    ("power", B + "vm1: BASE power: standby",
     ["c.conf:5: VM 'vm1': power: 'standby' is not one of on, off"]),
    ("range on a key that cannot take one", B + "vm{1:2}: BASE cpu: {1:2}",
     ["c.conf:5: VM 'vm{1:2}': cpu: '{1:2}' has a range but cpu cannot take one " + RANGE_KEYS]),
    ("ip range shorter than the name range", B + "dup{1:3}: BASE port_group: pg ip: 10.0.0.{1:2}",
     ["c.conf:5: VM 'dup{1:3}': ip: range {1:2} has 2 values for the 3 VMs of dup{1:3}; each VM needs its own ip "
      "(give a range of 3)"]),
    ("host name range shorter than the name range", B + "n{1:3}: BASE guest_hostname: h{{1:2}}",
     ["c.conf:5: VM 'n{1:3}': guest_hostname: range {{1:2}} has 2 values for the 3 VMs of n{1:3}; each VM needs "
      "its own guest_hostname (give a range of 3)"]),
    ("one ip for a range of VMs", B + "dup{1:3}: BASE ip: 10.0.0.1",
     ["c.conf:5: ip 10.0.0.1 is given to 3 VMs: dup1..dup3 (c.conf:5); each VM needs its own"]),
    ("one ip on two lines", B + "a: BASE ip: 10.0.0.1\nb{1:2}: BASE ip: 10.0.0.{0:1}",
     ["c.conf:6: ip 10.0.0.1 is given to 2 VMs: a (c.conf:5), b2 (c.conf:6); each VM needs its own"]),
    ("a host name twice, any case", B + "a: BASE guest_hostname: Node1\nnode{1:2}: BASE port_group: pg is_dhcp: yes",
     ["c.conf:6: guest host name node1 is given to 2 VMs: a (c.conf:5), node1 (c.conf:6); each VM needs its own"]),
    ("value range without name range", B + "vm1: BASE host: h{1:2}",
     ["c.conf:5: VM 'vm1': host: 'h{1:2}' has a range but the VM name has none"]),
    ("two ranges in one value", B + "vm{1:4}: BASE ip: 10.0.{1:2}.{1:4}",
     ["c.conf:5: VM 'vm{1:4}': ip: two ranges in one value ('{1:2}' and '{1:4}'); only one range is allowed"]),
    ("name range start > end", B + "vm{3:1}: BASE",
     ["c.conf:5: VM 'vm{3:1}': range {3:1} starts after it ends"]),
    ("value range start > end", B + "vm{1:3}: BASE host: h{{3:1}}",
     ["c.conf:5: VM 'vm{1:3}': host: range {{3:1}} starts after it ends"]),
    ("malformed name range", B + "vm{1:x}: BASE",
     ["c.conf:5: VM 'vm{1:x}': malformed range in VM name 'vm{1:x}'"]),
    ("duplicate VM after expansion", B + "vm1: BASE\nvm{1:2}: BASE",
     ["c.conf:6: VM 'vm{1:2}': name 'vm1' is already used at c.conf:5"]),
    ("no template", "[_VMS_]\nvm1: cpu: 2",
     ["c.conf:2: VM 'vm1': no template (give 'template: NAME' here or in a section it uses)"]),
    ("script missing", B + "vm1: BASE script: nothere.sh",
     ["c.conf:5: VM 'vm1': script: 'nothere.sh' not found (looked for /nonexistent/nothere.sh and "
      + os.path.join(os.getcwd(), "nothere.sh") + ")"]),
    ("unreadable item", B + "vm1: BASE 0000:af:00.0",
     ["c.conf:5: VM 'vm1': cannot read item '0000:af:00.0' (write KEY: VALUE or a section name)"]),
    ("VM line without colon", B + "vm1 BASE",
     ["c.conf:5: [_VMS_] expected 'NAME: definition', got 'vm1 BASE'"]),
    ("line outside sections", "cpu: 4\n" + B + "vm1: BASE",
     ["c.conf:1: 'cpu: 4' is outside any section (start one with [NAME])"]),
    ("section line without colon", "[BASE]\ntemplate tpl\n[_VMS_]\nvm1: BASE",
     ["c.conf:2: [BASE] expected 'key: value', got 'template tpl'"]),
    ("bad section header", "[BASE\ntemplate: t\n[_VMS_]\nvm1: template: t",
     ["c.conf:1: bad section header '[BASE' (write [NAME])"]),
    ("duplicate section", "[BASE]\ntemplate: a\n[BASE]\ntemplate: b\n[_VMS_]\nvm1: BASE",
     ["c.conf:3: section [BASE] is defined twice (first on line 1)"]),
    ("switch: VM key, two ranges", "[_SVS_]\ns1: pnic: vmnic4 port_group: pg cpu: 2 host: h{1:2}x{3:4}",
     ["c.conf:2: SVS 's1': cpu: unknown key (a VM key, not a switch key: use host, pnic, port_group, datacenter, mtu, vmk_ip, vmk_netmask)",
      "c.conf:2: SVS 's1': host: two ranges in one value ('{1:2}' and '{3:4}'); only one range is allowed"]),
    ("switch: near miss", "[_SVS_]\ns1: pnics: vmnic4 port_group: pg host: h pnic: v",
     ["c.conf:2: SVS 's1': pnics: unknown key (did you mean 'pnic'?)"]),
    ("switch: range on pnic", "[_SVS_]\ns1: pnic: vmnic{4:5} port_group: pg host: h",
     ["c.conf:2: SVS 's1': pnic: 'vmnic{4:5}' has a range but pnic cannot take one (only a switch's host and vmk_ip can)"]),
    ("switch: missing keys", "[_DVS_]\nd1: pnic: vmnic5",
     ["c.conf:2: DVS 'd1': missing host"]),
    ("switch: range in name", "[_DVS_]\nd{1:2}: pnic: vmnic5 host: h port_group: p",
     ["c.conf:2: DVS 'd{1:2}': a switch name cannot take a range"]),
    ("switch: defined twice", "[_DVS_]\nd1: pnic: vmnic5 host: h port_group: p\nd1: pnic: vmnic5 host: h port_group: p",
     ["c.conf:3: DVS 'd1' is defined twice (first on line 2)"]),
    ("switch: undefined section", "[_DVS_]\nd1: HOSTS pnic: vmnic5 port_group: p",
     ["c.conf:2: DVS 'd1': undefined section 'HOSTS'"]),
    ("switch: vmk_ip count", "[_DVS_]\nd1: pnic: vmnic5 host: h{1:3} port_group: p vmk_ip: 10.0.0.{1:2} "
                             "vmk_netmask: 255.255.255.0",
     ["c.conf:2: DVS 'd1': 3 hosts but 2 vmk_ip: give one address per host, in the order of host"]),
    ("switch: vmk_ip without netmask", "[_DVS_]\nd1: pnic: vmnic5 host: h port_group: p vmk_ip: 10.0.0.1",
     ["c.conf:2: DVS 'd1': give vmk_ip and vmk_netmask together (static addresses of the VMkernel adapters)"]),
    ("switch: vmk_ip twice", "[_DVS_]\nd1: pnic: vmnic5 host: h{1:2} port_group: p vmk_ip: ['10.0.0.1', "
                             "'10.0.0.1'] vmk_netmask: 255.255.255.0",
     ["c.conf:2: DVS 'd1': vmk_ip gives an address twice: each host's adapter needs its own"]),
    ("switch: vmk_ip on a standard switch", "[_SVS_]\ns1: pnic: vmnic5 host: h port_group: p vmk_ip: 10.0.0.1 "
                                            "vmk_netmask: 255.255.255.0",
     ["c.conf:2: SVS 's1': vmk_ip and vmk_netmask are for a distributed switch's PVRDMA VMkernel adapters"]),
    ("switch: bad vmk_ip in a range", "[_DVS_]\nd1: pnic: vmnic5 host: h{1:2} port_group: p "
                                      "vmk_ip: 10.0.0.{255:256} vmk_netmask: 255.255.255.0",
     ["c.conf:2: DVS 'd1': vmk_ip: '10.0.0.256' is not an IPv4 address"]),
    ("nothing defined", "# nothing\n[BASE]\ncpu: 1\n",
     ["c.conf: defines no VMs and no switches (add a [_VMS_] section)"]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem_lines(text, expected):
    assert problems(text) == expected


def test_problem_in_shared_section_names_its_line_and_every_vm():
    text = "[BASE]\ntemplate: tpl\ncpu: lots\ncpus: 2\n[_VMS_]\nvm1: BASE\nvm{2:3}: BASE\n"
    assert problems(text) == [
        "c.conf:3: [BASE] cpu: 'lots' is not an integer (used by VM 'vm1', VM 'vm{2:3}')",
        "c.conf:4: [BASE] cpus: unknown key (did you mean 'cpu'?) (used by VM 'vm1', VM 'vm{2:3}')",
    ]


def test_range_problem_in_section_reported_at_section_line():
    text = "[H]\nhost: esx{1:4}\n[_VMS_]\nvm{1:2}: template: t H\nsolo: template: t H\n"
    assert problems(text) == [
        "c.conf:2: [H] host: 'esx{1:4}' has a range but the VM name has none (used by VM 'solo')",
    ]


def test_every_problem_in_one_run_sorted_by_line():
    text = ("[BASE]\ntemplate: tpl\nmemory: x\n[_VMS_]\n"
            "vm1: BASE cpu: y NOPE\nvm2: BASE latency: mid\nvm1: BASE\n")
    assert problems(text) == [
        "c.conf:3: [BASE] memory: 'x' is not a number (GB) (used by VM 'vm1', VM 'vm2')",
        "c.conf:5: VM 'vm1': undefined section 'NOPE'",
        "c.conf:5: VM 'vm1': cpu: 'y' is not an integer",
        "c.conf:6: VM 'vm2': latency: 'mid' is not one of high, normal",
        "c.conf:7: VM 'vm1': name 'vm1' is already used at c.conf:5",
    ]


def test_overridden_bad_value_is_still_reported():
    assert problems(B + "vm1: BASE cpu: x cpu: 2") == ["c.conf:5: VM 'vm1': cpu: 'x' is not an integer"]


def test_check_scripts_false_tolerates_missing_scripts():
    [vm] = parse_cluster_text(B + "vm1: BASE script: nothere.sh", "c.conf", base_dir="/nonexistent",
                              check_scripts=False).vms
    assert vm.scripts[0].path == "/nonexistent/nothere.sh"


def test_script_that_is_a_directory_is_not_found(tmp_path, monkeypatch):
    (tmp_path / "d").mkdir()
    monkeypatch.chdir(tmp_path)
    assert problems(B + "vm1: BASE script: d", base_dir=tmp_path) == [
        "c.conf:5: VM 'vm1': script: 'd' not found (looked for %s)" % (tmp_path / "d")]


def test_script_found_in_the_working_directory_when_not_beside_the_file(tmp_path, monkeypatch):
    """The original's users ran it from bin/ and wrote ../examples/post-scripts/... ."""
    (tmp_path / "examples" / "post-scripts").mkdir(parents=True)
    (tmp_path / "examples" / "post-scripts" / "s.sh").write_text("true\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "conf").mkdir()
    monkeypatch.chdir(tmp_path / "bin")
    [vm] = parse_cluster_text(B + "vm1: BASE script: ../examples/post-scripts/s.sh", "c.conf",
                              base_dir=tmp_path / "conf").vms
    assert vm.scripts[0].path == str(tmp_path / "examples" / "post-scripts" / "s.sh")
    # beside the file wins over the working directory
    (tmp_path / "examples" / "post-scripts" / "t.sh").write_text("true\n")
    (tmp_path / "conf" / "t.sh").write_text("true\n")
    [vm] = parse_cluster_text(B + "vm1: BASE script: t.sh", "c.conf", base_dir=tmp_path / "conf").vms
    assert vm.scripts[0].path == str(tmp_path / "conf" / "t.sh")


def test_error_is_an_input_error():
    with pytest.raises(InputError):
        parse_cluster_text("", "c.conf")


def test_missing_file(tmp_path):
    f = tmp_path / "absent.conf"
    with pytest.raises(ClusterFileError) as err:
        parse_cluster_file(f)
    assert err.value.problems == ["%s: cluster file does not exist" % f]


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(ClusterFileError) as err:
        parse_cluster_file(tmp_path)
    assert err.value.problems == ["%s: cluster file is a folder; give the file itself" % tmp_path]


def test_not_utf8_names_the_line(tmp_path):
    f = tmp_path / "latin.conf"
    f.write_bytes(b"[BASE]\ntemplate: t\ndomain: caf\xe9\n")
    with pytest.raises(ClusterFileError) as err:
        parse_cluster_file(f)
    assert err.value.problems == ["%s:3: not UTF-8 text (byte 0xe9)" % f]
