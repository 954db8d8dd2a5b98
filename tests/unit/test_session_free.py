"""Session.free keeps session-owned objects for the logout, and frees the oldest past MAX_HELD."""
from __future__ import annotations

from vhpc_toolkit.vsphere import session as session_mod
from vhpc_toolkit.vsphere.session import MAX_HELD, Session, free


class View:
    def __init__(self, log, name):
        self.log, self.name = log, name

    def DestroyView(self):
        self.log.append(self.name)


class Manager:
    def __init__(self, log):
        self.log = log

    def Logout(self):
        self.log.append("logout")


class Content:
    def __init__(self, log):
        self.sessionManager = Manager(log)


def test_kept_until_the_logout_and_never_more_than_max_held():
    log: list[str] = []
    s = Session(si=None, content=Content(log), server="vc", port=443, ssl_context=None)
    for i in range(MAX_HELD + 3):
        free(s, View(log, f"v{i}"), "DestroyView")
    assert log == ["v0", "v1", "v2"] and len(s.held) == MAX_HELD   # the oldest freed at once
    s.close()
    assert log[-1] == "logout" and log.count("logout") == 1 and s.held == []   # the logout frees the rest


def test_without_a_session_that_keeps_them_freed_at_once_and_failures_are_quiet():
    log: list[str] = []
    free(object(), View(log, "now"), "DestroyView")
    assert log == ["now"]

    class Gone:
        def DestroyView(self):
            raise RuntimeError("session ended")

    session_mod.courtesy(Gone(), "DestroyView")     # no exception


def test_what_an_ended_session_made_is_never_sent():
    """After a re-login the objects of the old session went with it: a call on them could only fail."""
    from types import SimpleNamespace

    log: list[str] = []
    s = Session(si=None, content=Content(log), server="vc", port=443, ssl_context=None,
                stub=SimpleNamespace(generation=0))
    for i in range(MAX_HELD):
        free(s, View(log, f"old{i}"), "DestroyView")
    s.stub.generation = 1       # the session ended and the stub logged in again
    for i in range(3):
        free(s, View(log, f"new{i}"), "DestroyView")
    assert log == [] and [o.name for o, _, _ in s.held] == ["new0", "new1", "new2"]
