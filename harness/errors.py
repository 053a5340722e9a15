"""The one exception hierarchy of kch.

Every error a user can cause or fix is a :class:`KchError` with an ``exit_code``; the CLI
prints its message on one line and exits with that code, without a traceback.
``2`` means bad input (spec, suite, CLI usage), ``3`` means infrastructure (a missing tool,
a cluster that will not start or a fault that cannot be applied).
"""


class KchError(Exception):
    """Base of every error kch reports to a user."""

    exit_code = 3


class UsageError(KchError):
    """Bad input: a wrong flag, an unknown fault, a malformed spec."""

    exit_code = 2


class ToolMissing(KchError):
    """A tool kch needs (java, mvn, go, toxiproxy) is absent; the message says how to get it."""

    exit_code = 3


class ClusterError(KchError):
    """The cluster could not be started, reached, or brought back to health."""

    exit_code = 3


class FaultError(KchError):
    """A fault could not be applied or healed (e.g. its target does not exist)."""

    exit_code = 3
