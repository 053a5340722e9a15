"""Every setting that makes a local cluster fast to start and fast to fail over, in one place.

Kafka's defaults are built for production: a broker is fenced 9 s after its last heartbeat, a
lagging follower leaves the ISR after 30 s, a KRaft election waits a second or more. A chaos
test wants failures detected in a few seconds, on a 2-core machine, with small heaps. Each
value says why it was chosen; the cluster provider copies them into every node's config.
"""

from __future__ import annotations

# Broker liveness, seen by the active controller.
BROKER_HEARTBEAT_INTERVAL_MS = 500     # default 2000: faster detection of a dead broker
BROKER_SESSION_TIMEOUT_MS = 3000       # default 9000: fence (and move leadership) after 3 s

# KRaft quorum.
QUORUM_ELECTION_TIMEOUT_MS = 1000      # default 1000
QUORUM_FETCH_TIMEOUT_MS = 2000         # default 2000: a follower starts an election after 2 s
QUORUM_ELECTION_BACKOFF_MAX_MS = 500   # default 1000

# Replication.
REPLICA_LAG_TIME_MAX_MS = 4000         # default 30000: a stalled follower leaves the ISR in 4 s
REPLICA_SOCKET_TIMEOUT_MS = 5000       # default 30000: a blackholed fetch fails in 5 s
REPLICA_FETCH_BACKOFF_MS = 200         # default 1000

# Consumer groups: no initial delay, so tests need not wait 3 s per group.
GROUP_INITIAL_REBALANCE_DELAY_MS = 0
# KIP-848 (group.protocol=consumer) groups: the broker owns session and heartbeat; defaults
# 45 s and 5 s would make a crashed member's partitions wait 45 s. Same bounds as classic.
CONSUMER_GROUP_SESSION_TIMEOUT_MS = 6000
CONSUMER_GROUP_HEARTBEAT_INTERVAL_MS = 1000

# Process budget on a 2-core machine.
HEAP = "-Xms192m -Xmx512m"
JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
             "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"]
# toxiproxy runs with GOMAXPROCS=1 (harness/toxiproxy/server.py).
THREADS = {"num.network.threads": 2, "num.io.threads": 2, "background.threads": 2,
           "num.replica.fetchers": 1, "num.recovery.threads.per.data.dir": 1,
           "log.cleaner.threads": 1}


def properties(*, brokers: int) -> dict[str, object]:
    """The tuned settings for a cluster of ``brokers`` brokers, as server.properties entries."""
    rf = min(3, brokers)
    return {
        "broker.heartbeat.interval.ms": BROKER_HEARTBEAT_INTERVAL_MS,
        "broker.session.timeout.ms": BROKER_SESSION_TIMEOUT_MS,
        "controller.quorum.election.timeout.ms": QUORUM_ELECTION_TIMEOUT_MS,
        "controller.quorum.fetch.timeout.ms": QUORUM_FETCH_TIMEOUT_MS,
        "controller.quorum.election.backoff.max.ms": QUORUM_ELECTION_BACKOFF_MAX_MS,
        "replica.lag.time.max.ms": REPLICA_LAG_TIME_MAX_MS,
        "replica.socket.timeout.ms": REPLICA_SOCKET_TIMEOUT_MS,
        "replica.fetch.backoff.ms": REPLICA_FETCH_BACKOFF_MS,
        "group.initial.rebalance.delay.ms": GROUP_INITIAL_REBALANCE_DELAY_MS,
        "group.consumer.session.timeout.ms": CONSUMER_GROUP_SESSION_TIMEOUT_MS,
        "group.consumer.min.session.timeout.ms": CONSUMER_GROUP_SESSION_TIMEOUT_MS,
        "group.consumer.heartbeat.interval.ms": CONSUMER_GROUP_HEARTBEAT_INTERVAL_MS,
        "group.consumer.min.heartbeat.interval.ms": CONSUMER_GROUP_HEARTBEAT_INTERVAL_MS,
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": 3,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": min(2, rf),
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": min(2, rf),
        "auto.create.topics.enable": "false",
        "auto.leader.rebalance.enable": "false",  # leaders move only when a test moves them
        "unclean.leader.election.enable": "false",
        "log.segment.bytes": 16 * 1024 * 1024,
        "log.index.size.max.bytes": 1024 * 1024,
        **THREADS,
    }
