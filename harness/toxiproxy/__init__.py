"""toxiproxy: a typed client of its HTTP API (:mod:`harness.toxiproxy.client`)."""

from harness.toxiproxy.client import TOXIC_TYPES, Proxy, ToxiproxyClient, Toxic

__all__ = [
    "TOXIC_TYPES",
    "Proxy",
    "Toxic",
    "ToxiproxyClient",
]
