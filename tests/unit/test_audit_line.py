"""The command line written to the audit trail hides the value of a secret option however it is
typed: its full name in either spelling, or an abbreviation argparse takes."""
from __future__ import annotations

import argparse

import pytest

from vhpc_toolkit.audit import _SECRET, SECRET_OPTIONS, command_line
from vhpc_toolkit.cli.parser import build_parser


@pytest.mark.parametrize("flag", ["--guest_password", "--guest-password", "--guest_pa", "--guest-pa", "--gue"])
def test_a_secret_option_or_its_abbreviation_is_hidden(flag):
    assert command_line(["post", flag, "s3cr3t", "--vm", "v"]) == f"post {flag} '***' --vm v"
    assert command_line(["post", f"{flag}=s3cr3t"]) == f"post '{flag}=***'"


def test_other_flags_and_short_prefixes_are_kept():
    assert command_line(["post", "--gu", "x", "--vm", "s3cr3t"]) == "post --gu x --vm s3cr3t"


def _options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        yield from action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _options(sub)


def test_every_secret_option_of_the_parser_is_listed():
    secret = {o[2:].replace("-", "_") for o in _options(build_parser()) if _SECRET.search(o)}
    assert secret <= set(SECRET_OPTIONS)
