"""The plan stage: hypothesis draws typed Plans from a spec (:mod:`.strategies`), a Plan is
plain data that shrinks, saves and replays (:mod:`.plan`), and exploration runs and shrinks
them (:mod:`.explore`)."""

from harness.plan.plan import FaultStep, Plan, PlannedAction, PlannedFault

__all__ = ["FaultStep", "Plan", "PlannedAction", "PlannedFault"]
