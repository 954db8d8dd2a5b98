"""vCenter's admission model in vCenter.conf (settings/admission.py): the documented numbers by default,
overrides and the clone time from the file, one clear error per bad value."""
from __future__ import annotations

import pytest

from vhpc_toolkit.errors import SettingsError
from vhpc_toolkit.ops.admission import Ledger
from vhpc_toolkit.settings import load_settings
from vhpc_toolkit.settings.admission import FULL, LINKED, AdmissionModel, parse_admission

BASE = "server: vc\nusername: u\npassword: p\n"


def settings_from(tmp_path, extra: str):
    conf = tmp_path / "vCenter.conf"
    conf.write_text(BASE + extra)
    conf.chmod(0o600)
    return load_settings(str(conf), {}, interactive=False)


def test_documented_numbers_by_default(tmp_path):
    model = settings_from(tmp_path, "").admission
    assert (model.host_units, model.full_clone_cost, model.linked_clone_cost, model.max_operations) == (16, 2, 1, 640)
    assert model.clone_time is None
    assert model.charges(FULL, "a", "b") == {"a": 2, "b": 2} and model.charges(FULL, "a", "a") == {"a": 4}
    assert model.charges(LINKED, "a", "b") == {"a": 1, "b": 1}


def test_overrides_and_clone_times_from_vcenter_conf(tmp_path):
    model = settings_from(tmp_path, "host_units: 32\nmax_operations: 100\nclone_time: 4m\nlinked_clone_time: 20\n"
                                    "instant_clone_time: 2s\n").admission
    assert (model.host_units, model.max_operations, model.clone_time) == (32, 100, 240.0)
    assert model.duration(LINKED) == 20.0 and model.duration("instant") == 2.0
    assert str(tmp_path) in model.clone_time_source


def test_a_tenth_and_a_hundredth_of_the_clone_time_by_default():
    model = AdmissionModel(clone_time=300)
    assert (model.duration(FULL), model.duration(LINKED), model.duration("instant")) == (300, 30, 3)
    assert AdmissionModel().duration(FULL) == 1.0     # unknown: times are in clone times


@pytest.mark.parametrize("text, words", [
    ("clone_time: soon\n", "clone_time must be a duration"),
    ("clone_time: 0\n", "above 0"),
    ("full_clone_cost: 0\n", "full_clone_cost must be a whole number of at least 1"),
    ("host_units: -1\n", "host_units must be a whole number of at least 0"),
    ("host_units: 3\n", "admits no clone to its source's own host"),
])
def test_bad_values_are_one_line_errors(tmp_path, text, words):
    with pytest.raises(SettingsError, match=words):
        settings_from(tmp_path, text)


def test_a_measured_clone_time_only_where_none_is_set():
    assert AdmissionModel().with_clone_time(90, "measured").clone_time == 90
    assert AdmissionModel(clone_time=60).with_clone_time(90, "measured").clone_time == 60
    assert parse_admission({}, "f").with_clone_time(None, "measured").clone_time is None


def test_the_ledger_counts_units_on_both_hosts_and_the_cap_per_host():
    ledger = Ledger(AdmissionModel())
    assert all(ledger.admit({"t": 2, f"h{i}": 2}) for i in range(8))
    assert not ledger.admit({"t": 2, "h9": 2})        # the template's host is full: 8 at a time
    ledger.release({"t": 2, "h0": 2})
    assert ledger.admit({"t": 2, "h9": 2})
    capped = Ledger(AdmissionModel(), max_per_host=2)
    assert capped.admit({"t": 2, "a": 2}) and capped.admit({"t": 2, "b": 2}) and not capped.admit({"t": 2, "c": 2})
    few = Ledger(AdmissionModel(max_operations=1))
    assert few.admit({"a": 4}) and not few.admit({"b": 4})


def test_operations_without_units_keep_the_caps_they_had_before_the_model():
    """A reconfigure beside the clones takes no units: it counts against --max-per-host, and at most
    max_others of them run at once (32 by default, as without the model)."""
    ledger = Ledger(AdmissionModel(), max_others=2)
    assert ledger.admit({"a": 0}) and ledger.admit({"b": 0}) and not ledger.admit({"c": 0})
    assert ledger.admit({"t": 2, "c": 2})                  # clones are not held back by them
    ledger.release({"a": 0})
    assert ledger.admit({"c": 0})
    capped = Ledger(AdmissionModel(), max_per_host=1)
    assert capped.admit({"a": 0}) and not capped.admit({"a": 0}) and not capped.admit({"t": 2, "a": 2})
