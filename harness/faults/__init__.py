"""Fault injection: fault kinds (values that apply themselves, registered by the spec's kind
name in ``KINDS``) and the nemesis that applies, heals and records them."""

from harness.faults.kinds import (KINDS, Bounce, Down, Fault, Isolate, Kill, Pause, Restart, Split,
                                  Targeted, Terminate, Toxic)
from harness.faults.nemesis import ActiveFault, Nemesis
from harness.faults.targets import resolve_links, resolve_target

__all__ = ["KINDS", "ActiveFault", "Bounce", "Down", "Fault", "Isolate", "Kill", "Nemesis", "Pause",
           "Restart", "Split", "Targeted", "Terminate", "Toxic", "resolve_links", "resolve_target"]
