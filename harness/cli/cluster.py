"""``kch cluster up|down|status``: a cluster kept running between commands, for reproducing
bugs by hand."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from harness.errors import ClusterError, UsageError


def _kept_dir(name: str) -> Path:
    from harness.home import state_dir

    return state_dir() / "clusters" / name


def _docker_members(name: str) -> int:
    """How many containers of cluster ``name`` exist (0 where no engine runs)."""
    from harness.cluster.engine import LABEL_CLUSTER, engine
    from harness.errors import ToolMissing

    try:
        return len(engine().containers.list(all=True, filters={"label": f"{LABEL_CLUSTER}={name}"}))
    except ToolMissing:
        return 0


def cluster_command(args: argparse.Namespace, version: str) -> int:
    from harness.procs import read_record, reap_orphans

    workdir = _kept_dir(args.name)
    record_name = f"kept-{args.name}"
    if args.action == "up":
        from harness.cluster import make_cluster

        if read_record(record_name) or (args.cluster == "docker" and _docker_members(record_name)):
            raise UsageError(f"cluster {args.name!r} is already up (kch cluster down --name {args.name})")
        shutil.rmtree(workdir, ignore_errors=True)
        cluster = make_cluster(args.cluster, images=args.images, brokers=args.brokers,
                               controllers=args.controllers, kafka_version=version, workdir=workdir,
                               name=record_name, detached=True)
        try:
            cluster.start()
        except BaseException:
            cluster.detached = False
            cluster.close()
            raise
        _print_status(cluster.status(), args.json)
        return 0
    if args.action == "down":
        reaped = reap_orphans(include_detached=record_name)
        if _docker_members(record_name):
            from harness.cluster.engine import remove_cluster

            reaped += remove_cluster(record_name)
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"cluster {args.name}: stopped {len(reaped)} processes or containers" if reaped
              else f"cluster {args.name}: not running")
        return 0
    status_file = workdir / "cluster.json"
    if not status_file.exists() or not (read_record(record_name) or _docker_members(record_name)):
        raise ClusterError(f"cluster {args.name!r} is not up: start it with kch cluster up")
    _print_status(json.loads(status_file.read_text()), args.json)
    return 0


def _print_status(status: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(status, indent=2))
        return
    print(f"cluster {status['name']} ({status.get('provider', 'local')}, Kafka {status['kafka_version']}) "
          f"in {status['workdir']}")
    print(f"  bootstrap servers: {status['bootstrap_servers']}")
    pid = f" (pid {status['toxiproxy_pid']})" if status.get("toxiproxy_pid") else ""
    print(f"  toxiproxy API:     {status['toxiproxy_api']}{pid}")
    for node in status["nodes"]:
        where = f"container {node['container']}" if node.get("container") else f"pid {node['pid']}"
        print(f"  node {node['id']} [{node['roles']}] {where} client {node['client_address']} log {node['log']}")
    print(f"  {len(status['links'])} proxied links; `kch cluster status --json` lists them")
