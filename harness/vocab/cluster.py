"""Broker settings kch itself must own (the node's identity, listeners, quorum, storage): a
spec's ``cluster.config`` may set any other broker property, never these."""

from __future__ import annotations

RESERVED_BROKER_KEYS = (
    "node.id", "broker.id", "process.roles", "listeners", "advertised.listeners",
    "listener.security.protocol.map", "inter.broker.listener.name", "controller.listener.names",
    "controller.quorum.voters", "controller.quorum.bootstrap.servers", "log.dirs", "log.dir",
    "metadata.log.dir",
)
