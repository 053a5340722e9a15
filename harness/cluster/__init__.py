"""Clusters kch runs against. ``local``: KRaft JVMs on loopback with every link behind toxiproxy;
``docker``: KRaft containers on a private network, links proxied the same way, plus true
partitions."""

from harness.cluster.layout import (RESERVED_BROKER_KEYS, RESERVED_BROKER_PREFIXES, Layout, Link, Node,
                                    check_broker_config, plan_layout, reserved_broker_key)
from harness.cluster.local import LocalCluster
from harness.errors import UsageError

PROVIDERS = ("local", "docker")


def make_cluster(provider: str, *, images: str = "auto", broker_config: dict[str, str] | None = None,
                 **kwargs):
    """A cluster of ``provider`` (not started); ``kwargs`` as for :class:`LocalCluster`.

    ``broker_config``: server.properties entries for every node, over kch's tuned defaults
    (:mod:`harness.cluster.tuning`); a key in :data:`RESERVED_BROKER_KEYS` is a UsageError."""
    if provider == "local":
        return LocalCluster(broker_config=broker_config, **kwargs)
    if provider == "docker":
        from harness.cluster.docker import DockerCluster

        return DockerCluster(images=images, broker_config=broker_config, **kwargs)
    raise UsageError(f"--cluster {provider}: expected one of {', '.join(PROVIDERS)}")


__all__ = ["Layout", "Link", "LocalCluster", "Node", "PROVIDERS", "RESERVED_BROKER_KEYS", "RESERVED_BROKER_PREFIXES",
           "check_broker_config", "make_cluster", "plan_layout", "reserved_broker_key"]
