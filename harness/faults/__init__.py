"""Fault injection: fault kinds (plain values) and the nemesis that applies and heals them."""

from harness.faults.kinds import (Bounce, Down, Fault, Isolate, Kill, Pause, Restart, Split,
                                  Terminate, Toxic)
from harness.faults.nemesis import ActiveFault, Nemesis
from harness.faults.targets import resolve_links, resolve_target

__all__ = ["ActiveFault", "Bounce", "Down", "Fault", "Isolate", "Kill", "Nemesis", "Pause",
           "Restart", "Split", "Terminate", "Toxic", "resolve_links", "resolve_target"]
