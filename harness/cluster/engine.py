"""The Docker engine kch talks to, and ownership of what it starts there.

Every container and network kch creates carries labels: ``kch.cluster`` (the cluster's name),
``kch.owner`` (``PID:START``, the runner that owns it) and, for ``kch cluster up``,
``kch.detached``. testcontainers' reaper (Ryuk) is an image that cannot be pulled where no
registry is reachable, so it is disabled and :func:`reap_containers` does its work instead:
every start removes what a dead runner left, found by label (also after a SIGKILL).
"""

from __future__ import annotations

import functools
import os

import psutil

from harness.errors import ClusterError, ToolMissing

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

LABEL_CLUSTER = "kch.cluster"
LABEL_OWNER = "kch.owner"
LABEL_DETACHED = "kch.detached"
FIX = ("start a Docker engine (as root: `dockerd &`; Debian: `apt-get install docker.io iptables`), "
       "or use --cluster local")

_client = None


def engine():
    """A docker SDK client for the running engine; exit 3 with the fix if there is none."""
    global _client
    if _client is not None:
        return _client
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a dependency of kch
        raise ToolMissing("the docker Python package is missing: pip install docker") from exc
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # docker raises DockerException, requests errors, FileNotFoundError...
        raise ToolMissing(f"no Docker engine answers ({type(exc).__name__}): {FIX}") from None
    _client = client
    return client


def engine_errors(error: type = ClusterError):
    """Decorator: what the engine raises (docker's errors, a connection that failed) becomes
    ``error`` (exit 3) naming the call, never a traceback."""
    def wrap(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            import docker
            import requests

            try:
                return fn(*args, **kwargs)
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                raise error(f"docker: {fn.__name__.strip('_').replace('_', ' ')} failed: "
                            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        return call
    return wrap


def owner_label() -> str:
    me = psutil.Process(os.getpid())
    return f"{me.pid}:{me.create_time():.2f}"


def labels(cluster: str, *, detached: bool) -> dict[str, str]:
    out = {LABEL_CLUSTER: cluster, LABEL_OWNER: owner_label()}
    if detached:
        out[LABEL_DETACHED] = cluster
    return out


def _owner_alive(value: str) -> bool:
    try:
        pid, create = value.split(":")
        return abs(psutil.Process(int(pid)).create_time() - float(create)) < 0.02
    except (ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def remove_cluster(name: str) -> list[str]:
    """Remove every container and network of cluster ``name``; return what was removed."""
    return _remove(engine(), lambda lab: lab.get(LABEL_CLUSTER) == name)


def reap_containers(*, include_detached: str | None = None) -> list[str]:
    """Remove containers and networks whose owning runner is gone (detached clusters are kept,
    except ``include_detached``)."""
    def orphan(lab: dict) -> bool:
        if lab.get(LABEL_DETACHED):
            return lab[LABEL_DETACHED] == include_detached
        return not _owner_alive(lab.get(LABEL_OWNER, ""))

    return _remove(engine(), orphan)


def _remove(client, select) -> list[str]:
    import docker

    removed = []
    for container in client.containers.list(all=True, filters={"label": LABEL_OWNER}):
        if select(container.labels):
            try:
                container.remove(force=True, v=True)
                removed.append(f"container {container.name}")
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                raise ClusterError(f"could not remove container {container.name}: {exc}") from exc
    for network in client.networks.list(filters={"label": LABEL_OWNER}):
        if select(network.attrs.get("Labels") or {}):
            try:
                network.remove()
                removed.append(f"network {network.name}")
            except docker.errors.NotFound:
                pass
    return removed
