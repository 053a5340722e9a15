"""Clusters kch runs against. ``local``: KRaft JVMs on loopback with every link behind toxiproxy."""

from harness.cluster.layout import Layout, Link, Node, plan_layout
from harness.cluster.local import LocalCluster

__all__ = ["Layout", "Link", "LocalCluster", "Node", "plan_layout"]
