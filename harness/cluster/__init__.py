"""Clusters kch runs against. ``local``: KRaft JVMs on loopback with every link behind toxiproxy;
``docker``: KRaft containers on a private network, links proxied the same way, plus true
partitions."""

from harness.cluster.layout import Layout, Link, Node, plan_layout
from harness.cluster.local import LocalCluster
from harness.errors import UsageError

PROVIDERS = ("local", "docker")


def make_cluster(provider: str, *, images: str = "auto", **kwargs):
    """A cluster of ``provider`` (not started); ``kwargs`` as for :class:`LocalCluster`."""
    if provider == "local":
        return LocalCluster(**kwargs)
    if provider == "docker":
        from harness.cluster.docker import DockerCluster

        return DockerCluster(images=images, **kwargs)
    raise UsageError(f"--cluster {provider}: expected one of {', '.join(PROVIDERS)}")


__all__ = ["Layout", "Link", "LocalCluster", "Node", "PROVIDERS", "make_cluster", "plan_layout"]
