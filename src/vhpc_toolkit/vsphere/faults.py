"""vSphere faults and client errors as one line of text."""
from __future__ import annotations


def fault_message(fault) -> str:
    """The most useful text vSphere gives for a fault."""
    if fault is None:
        return "unknown error"
    msg = getattr(fault, "msg", None) or getattr(fault, "localizedMessage", None)
    if not msg and getattr(fault, "faultMessage", None):
        msg = "; ".join(m.message for m in fault.faultMessage if getattr(m, "message", None))
    msg = msg or type(fault).__name__.split(".")[-1]
    if getattr(fault, "invalidProperty", None):  # InvalidArgument says which field
        msg += f" ({fault.invalidProperty})"
    return msg


def error_message(exc: BaseException) -> str:
    """One line for an exception raised by a call: a vSphere fault's text, else the exception's."""
    if hasattr(exc, "msg") or hasattr(exc, "faultMessage"):
        return fault_message(exc)
    return str(exc) or type(exc).__name__
