"""The session's cluster and logs: one running cluster at a time, reused by every spec of the
same shape (brokers, controllers, broker settings); the cluster's and the clients' logs end
up under the run's report directory."""

from __future__ import annotations

import json
import logging
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from harness.clients import Client
from harness.spec.model import ClusterSpec

CLIENT_LOG = logging.getLogger("kch.client")


def slug(name: str) -> str:
    """`name` as a file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "__", name)


class ClusterPool:
    """One running cluster at a time, reused by every spec of the same shape."""

    def __init__(self, kafka_version: str, logs_to: Path | None = None, *, provider: str = "local",
                 images: str = "auto") -> None:
        self.kafka_version = kafka_version
        self.provider = provider
        self.images = images
        self.logs_to = logs_to
        self.shape: tuple[int, int, str] | None = None
        self.cluster = None

    def get(self, want: ClusterSpec):
        from harness.cluster import make_cluster

        shape = (want.brokers, want.controllers, json.dumps(want.config, sort_keys=True))
        if self.cluster is not None and self.shape == shape:
            return self.cluster
        self.close()
        cluster = make_cluster(self.provider, images=self.images, brokers=want.brokers,
                               controllers=want.controllers, kafka_version=self.kafka_version,
                               broker_config={k: str(v).lower() if isinstance(v, bool) else str(v)
                                              for k, v in want.config.items()})
        try:
            cluster.start()
        except BaseException:
            cluster.close()
            raise
        self.cluster, self.shape = cluster, shape
        return cluster

    def close(self) -> None:
        if self.cluster is not None:
            if self.logs_to is not None:
                self.cluster.save_logs()
                _keep_logs(self.cluster, self.logs_to / f"cluster-{self.shape[0]}b{self.shape[1]}c")
            self.cluster.close()
        self.cluster, self.shape = None, None


@contextmanager
def session(out_dir: Path, kafka_version: str, clients: list[Client], *, provider: str = "local",
            images: str = "auto") -> Iterator[ClusterPool]:
    """A cluster pool whose logs (and the clients') end up under `out_dir`/logs; closed after,
    with every driver process the clients started."""
    pool = ClusterPool(kafka_version, logs_to=out_dir / "logs", provider=provider, images=images)
    handler = client_logs_to(out_dir / "logs" / "client.log")
    for c in clients:
        c.log_path = out_dir / "logs" / f"driver-{slug(c.name)}.log"
    try:
        yield pool
    finally:
        for c in clients:
            c.close()
        pool.close()
        CLIENT_LOG.removeHandler(handler)
        handler.close()


def client_logs_to(path: Path) -> logging.Handler:
    """Send librdkafka's log lines to `path` (never to the console)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    CLIENT_LOG.addHandler(handler)
    CLIENT_LOG.propagate = False
    CLIENT_LOG.setLevel(logging.INFO)
    return handler


def _keep_logs(cluster, dest: Path) -> None:
    src = cluster.workdir / "logs"
    if src.exists():
        shutil.copytree(src, dest, dirs_exist_ok=True)


