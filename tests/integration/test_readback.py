"""After their tasks, clone, cluster --create and the per-VM commands read the VMs back in ONE call
(not one per VM): SOAP calls counted by the lab. (That a difference is reported is tested on the stock
simulator, which ignores parts of a clone spec: test_stock.py.)"""
from __future__ import annotations

import json
import uuid


def counts(lab, cli, *argv) -> dict:
    lab.reset_calls()
    code, out, err = cli("--output", "json", *argv)
    assert code == 0, err + out
    return lab.calls()["methods"]


def test_one_read_back_per_run_whatever_the_number_of_vms(cli, lab, tmp_path):
    names = [f"rb-{uuid.uuid4().hex[:6]}-{i}" for i in range(4)]
    one, three = tmp_path / "one.txt", tmp_path / "three.txt"
    one.write_text(names[0] + "\n")
    three.write_text("\n".join(names[1:]) + "\n")
    try:
        by_size = {}
        for listing, n in ((one, 1), (three, 3)):
            runs = {"clone": counts(lab, cli, "clone", "--template", "vhpc_clone", "--file", listing),
                    "cpumem": counts(lab, cli, "cpumem", "--file", listing, "--cpu", "4"),
                    "power on": counts(lab, cli, "power", "--file", listing, "--on"),
                    "power off": counts(lab, cli, "power", "--file", listing, "--off")}
            assert runs["clone"]["CloneVM_Task"] == n and runs["cpumem"]["ReconfigVM_Task"] == n
            by_size[n] = runs
        for what in by_size[1]:
            # The command's own read and the read-back: two RetrievePropertiesEx, for 1 VM as for 3.
            assert by_size[1][what]["RetrievePropertiesEx"] == by_size[3][what]["RetrievePropertiesEx"] == 2, what
            # Everything but the tasks themselves is the same for 1 and 3 VMs.
            assert sum(by_size[3][what].values()) - sum(by_size[1][what].values()) == 2, (what, by_size)
    finally:
        one.write_text("\n".join(names) + "\n")
        cli("destroy", "--file", one)


def test_cluster_create_reads_back_once(cli, lab, tmp_path):
    pfx = f"rbc{uuid.uuid4().hex[:6]}"
    calls = {}
    try:
        for n in (1, 3):
            path = tmp_path / f"c{n}.conf"
            path.write_text(f"[_VMS_]\n{pfx}-{n}-{{1:{n}}}: template: vhpc_clone cpu: 4 memory: 2 "
                            "host: vhpc-esx-02.hpc.vmware.com power: off\n")
            calls[n] = counts(lab, cli, "cluster", "--create", "--file", path)
            assert calls[n]["CloneVM_Task"] == n
        # The plan's two reads (every VM light, the file's and the templates in full), then the read-back.
        assert calls[1]["RetrievePropertiesEx"] == calls[3]["RetrievePropertiesEx"] == 3, calls
        assert sum(calls[3].values()) - sum(calls[1].values()) == 2, calls
    finally:
        for n in (1, 3):
            cli("cluster", "--destroy", "--file", tmp_path / f"c{n}.conf")
    code, out, _ = cli("--output", "json", "cluster", "--destroy", "--file", tmp_path / "c3.conf")
    assert code == 0 and all(r["status"] != "changed" for r in json.loads(out)["results"])
