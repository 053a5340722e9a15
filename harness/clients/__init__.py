"""Clients: in-process adapters and out-of-process drivers (see :mod:`harness.clients.base`,
docs/driver-protocol.md). A client is named by its manifest: ``NAME``, ``NAME@VERSION`` or a
manifest file's path.
"""

from __future__ import annotations

from harness.clients.base import (FAIL, INFO, OK, Client, Consumer, Outcome, Producer, Record, Rejected,
                                  Unsupported)
from harness.clients.manifest import builtin_names, load_manifest

DEFAULT_CLIENT = "confluent-kafka"


def get_client(ref: str = DEFAULT_CLIENT) -> Client:
    """The client `ref` names, at its chosen version (installed on first use)."""
    manifest, version = load_manifest(ref)
    if manifest.in_process:
        from harness.clients.confluent import ConfluentClient

        client = ConfluentClient(manifest)
        if "@" not in ref or version == client.version:
            return client
    from harness.clients.driver import DriverClient

    return DriverClient(manifest, version)


def client_refs(value: str) -> list[str]:
    """``a,b,c`` as client refs (each one checked now: a typo is exit 2 before any work)."""
    refs = [r.strip() for r in value.split(",") if r.strip()]
    for ref in refs:
        load_manifest(ref)
    return refs


__all__ = ["DEFAULT_CLIENT", "FAIL", "INFO", "OK", "Client", "Consumer", "Outcome", "Producer", "Record",
           "Rejected", "Unsupported", "builtin_names", "client_refs", "get_client"]
