"""kch: a Kafka conformance and chaos harness.

The package offers real KRaft clusters on loopback with every link behind toxiproxy
(:mod:`harness.cluster`), a fault injector (:mod:`harness.faults`), and the command line
(:mod:`harness.cli`).
"""

__version__ = "0.1.0"

from harness.errors import (  # noqa: E402
    ClusterError,
    FaultError,
    KchError,
    ToolMissing,
    UsageError,
)

__all__ = [
    "__version__",
    "ClusterError",
    "FaultError",
    "KchError",
    "ToolMissing",
    "UsageError",
]
