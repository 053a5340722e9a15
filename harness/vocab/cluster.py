"""Broker settings kch itself must own (the node's identity, listeners, quorum, storage): a
spec's ``cluster.config`` may set any other broker property, never these. Every key starting
with a prefix of RESERVED_BROKER_PREFIXES is reserved too (the controller.quorum.* keys listed
are Kafka 4.3's)."""

from __future__ import annotations

RESERVED_BROKER_KEYS: tuple[str, ...] = (
    "node.id", "broker.id", "process.roles",
    "listeners", "advertised.listeners", "listener.security.protocol.map",
    "inter.broker.listener.name", "security.inter.broker.protocol", "controller.listener.names",
    "log.dirs", "log.dir", "metadata.log.dir",
    "controller.quorum.voters", "controller.quorum.bootstrap.servers",
    "controller.quorum.election.timeout.ms", "controller.quorum.election.backoff.max.ms",
    "controller.quorum.fetch.timeout.ms", "controller.quorum.request.timeout.ms",
    "controller.quorum.retry.backoff.ms", "controller.quorum.append.linger.ms",
    "controller.quorum.auto.join.enable", "controller.quorum.fetch.max.bytes",
    "controller.quorum.fetch.snapshot.max.bytes",
)
RESERVED_BROKER_PREFIXES: tuple[str, ...] = ("controller.quorum.",)


def reserved_broker_key(key: str) -> bool:
    """Whether ``key`` is one kch sets itself."""
    return key in RESERVED_BROKER_KEYS or key.startswith(RESERVED_BROKER_PREFIXES)
