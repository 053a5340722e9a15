"""kch's pytest plugin: a shared real cluster, fresh topics and a nemesis for tests.

Fixtures:
- ``kch_cluster`` (session): a 3-node local KRaft cluster behind toxiproxy, started once.
- ``kch_nemesis``: a :class:`~harness.faults.Nemesis` on it; after the test, ``heal_all()``
  returns the cluster to full health for the next one.
- ``kch_topic``: a factory for fresh, uniquely named topics.
Heavy imports happen inside the fixtures, so loading the plugin costs nothing.
"""

from __future__ import annotations

import itertools
import re

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kch", "kch: Kafka conformance and chaos harness")
    group.addoption("--kch-brokers", type=int, default=3, help="brokers of the session cluster (default 3)")
    group.addoption("--kch-kafka-version", default=None, help="Kafka version of the session cluster")


@pytest.fixture(scope="session")
def kch_cluster(request: pytest.FixtureRequest):
    from harness.cluster import LocalCluster
    from harness.provision import DEFAULT_KAFKA_VERSION

    version = request.config.getoption("--kch-kafka-version") or DEFAULT_KAFKA_VERSION
    cluster = LocalCluster(brokers=request.config.getoption("--kch-brokers"), kafka_version=version)
    with cluster:
        yield cluster


@pytest.fixture
def kch_nemesis(kch_cluster):
    from harness.faults import Nemesis

    nemesis = Nemesis(kch_cluster)
    yield nemesis
    nemesis.heal_all()


_topic_ids = itertools.count()


@pytest.fixture
def kch_topic(request: pytest.FixtureRequest, kch_cluster):
    """``kch_topic(partitions=3, replication_factor=3, config={...}) -> name`` of a new topic."""
    base = re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:60]

    def make(*, partitions: int = 3, replication_factor: int | None = None,
             config: dict[str, str] | None = None) -> str:
        name = f"{base}-{next(_topic_ids)}"
        kch_cluster.create_topic(name, partitions=partitions, replication_factor=replication_factor,
                                 config=config or {"min.insync.replicas": "2"})
        return name

    return make
