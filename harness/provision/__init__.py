"""Provisioning: the Kafka classpath, the toxiproxy binary and the tools they need.

Everything is cached per version in :func:`harness.home.cache_dir`, built on first use and
reused afterwards; ``kch provision`` does it ahead of time.
"""

from harness.provision.kafka import DEFAULT_KAFKA_VERSION, KafkaDist, kafka_dist
from harness.provision.tools import java_bin, require_tool
from harness.provision.toxiproxy import TOXIPROXY_VERSION, toxiproxy_bin

__all__ = [
    "DEFAULT_KAFKA_VERSION",
    "KafkaDist",
    "TOXIPROXY_VERSION",
    "java_bin",
    "kafka_dist",
    "require_tool",
    "toxiproxy_bin",
]
