"""Client adapters: one per Kafka client library (see :mod:`harness.clients.base`)."""

from __future__ import annotations

from harness.clients.base import FAIL, INFO, OK, Client, Consumer, Outcome, Producer, Record, Rejected
from harness.errors import UsageError

CLIENTS = ("confluent-kafka",)


def get_client(name: str = "confluent-kafka") -> Client:
    """The adapter for client library ``name``."""
    if name == "confluent-kafka":
        from harness.clients.confluent import ConfluentClient

        return ConfluentClient()
    raise UsageError(f"--client {name!r}: unknown client; known: {', '.join(CLIENTS)}")


__all__ = ["CLIENTS", "FAIL", "INFO", "OK", "Client", "Consumer", "Outcome", "Producer", "Record",
           "Rejected", "get_client"]
