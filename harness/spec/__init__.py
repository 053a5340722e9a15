"""The spec language: YAML promises validated into typed models (see docs/specs.md)."""

from harness.spec.loader import LoadedSpec, SpecError, find_specs, json_schema, load_spec
from harness.spec.model import ANOMALIES, FaultChoice, Spec

__all__ = ["ANOMALIES", "FaultChoice", "LoadedSpec", "Spec", "SpecError", "find_specs",
           "json_schema", "load_spec"]
