"""``kch``: the command line, a thin layer over the harness's functions.

Exit codes: 0 success, 1 non-conformance, 2 bad input, 3 infrastructure, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
from pathlib import Path

from harness import __version__
from harness.errors import ClusterError, KchError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kch", description="Kafka conformance and chaos harness")
    p.add_argument("--version", action="version", version=f"kch {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    prov = sub.add_parser("provision", help="fetch Kafka jars and build toxiproxy (cached)")
    prov.add_argument("--kafka-version", default=None)
    prov.add_argument("--clients", default="", help="also install these clients' drivers, comma-separated "
                      "(NAME, NAME@VERSION), or 'all' for every built-in client")

    cls = sub.add_parser("clients", help="list the built-in clients: version, language, capabilities")
    cls.add_argument("--json", action="store_true")

    img = sub.add_parser("images", help="the docker provider's images: build them without a registry, or list them")
    imsub = img.add_subparsers(dest="action", required=True, parser_class=_Parser)
    build = imsub.add_parser("build", help="build kch/jre (debootstrap), kch/kafka and kch/toxiproxy (cached)")
    build.add_argument("--kafka-version", default=None)
    build.add_argument("--rebuild", action="store_true", help="build again even if the images exist")
    build.add_argument("--mirror", default=None, help="Debian mirror for debootstrap (default: apt's)")
    lst = imsub.add_parser("list", help="which images a docker cluster would use")
    lst.add_argument("--kafka-version", default=None)
    lst.add_argument("--images", default="auto", choices=["auto", "official", "kch"])

    cl = sub.add_parser("cluster", help="a cluster kept up between commands")
    clsub = cl.add_subparsers(dest="action", required=True, parser_class=_Parser)
    up = clsub.add_parser("up", help="start a cluster and leave it running")
    _provider_args(up)
    up.add_argument("--brokers", type=int, default=3)
    up.add_argument("--controllers", type=int, default=0, help="dedicated controllers (0: combined mode)")
    up.add_argument("--kafka-version", default=None)
    up.add_argument("--json", action="store_true")
    up.add_argument("--name", default="default")
    for action in ("down", "status"):
        a = clsub.add_parser(action)
        a.add_argument("--name", default="default")
        a.add_argument("--json", action="store_true")

    specs = sub.add_parser("specs", help="list, validate or describe specs")
    spsub = specs.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for action in ("list", "validate"):
        a = spsub.add_parser(action)
        a.add_argument("paths", nargs="*", type=Path, default=[Path("specs")])
    spsub.add_parser("schema", help="print the JSON Schema of a spec")

    run = sub.add_parser("run", help="run specs or suites against a cluster and write a report")
    run.add_argument("targets", nargs="*", help="spec files, spec directories, suite files or suite names "
                     "(default: the suite ci)")
    run.add_argument("--client", default=None, help="client(s), comma-separated: NAME, NAME@VERSION or a manifest .yaml "
                     "(default: the suite's, else confluent-kafka); several give a client x spec matrix")
    _provider_args(run, default=None)
    run.add_argument("--kafka-version", default=None)
    run.add_argument("--profile", default=None, choices=["ci", "thorough"])
    run.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random, printed)")
    run.add_argument("--report-dir", type=Path, default=Path("reports"))

    rp = sub.add_parser("replay", help="run a saved counterexample again")
    rp.add_argument("counterexample", type=Path)
    rp.add_argument("--times", type=int, default=1, help="how many times to run it (default 1)")
    rp.add_argument("--client", default=None)
    _provider_args(rp, default=None)
    rp.add_argument("--kafka-version", default=None)
    rp.add_argument("--report-dir", type=Path, default=Path("reports"))

    demo = sub.add_parser("demo", help="start a cluster, produce and consume through faults, report")
    demo.add_argument("--kafka-version", default=None)
    demo.add_argument("--report-dir", type=Path, default=Path("reports"))
    return p


def _provider_args(p: argparse.ArgumentParser, default: str | None = "local") -> None:
    p.add_argument("--cluster", default=default, choices=["local", "docker"],
                   help="local: JVMs on loopback; docker: containers (true partitions too)"
                   + ("" if default else " (default: the suite's, else local)"))
    p.add_argument("--images", default="auto", choices=["auto", "official", "kch"],
                   help="docker images: official (apache/kafka), kch (kch images build), auto (default)")


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    try:
        args = _parser().parse_args(argv)
        return _dispatch(args)
    except KchError as exc:
        print(f"kch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kch: interrupted; everything started was stopped", file=sys.stderr)
        return 130


def _clients(args: argparse.Namespace) -> int:
    import json

    from harness.clients import builtin_names, load_manifest

    manifests = [load_manifest(n)[0] for n in builtin_names()]
    if args.json:
        print(json.dumps([m.model_dump() for m in manifests], indent=2))
        return 0
    for m in manifests:
        print(f"{m.name:<16} {m.version:<9} {m.language:<7} {m.library}")
        print(f"{'':<16} {' '.join(m.capabilities)}")
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    from harness.provision import DEFAULT_KAFKA_VERSION

    version = getattr(args, "kafka_version", None) or DEFAULT_KAFKA_VERSION
    if args.command == "provision":
        from harness.provision import kafka_dist, toxiproxy_bin

        dist = kafka_dist(version)
        print(f"kafka {dist.version}: {dist.libs}")
        print(f"toxiproxy: {toxiproxy_bin()}")
        if args.clients:
            from harness.clients import builtin_names, client_refs, get_client

            for ref in builtin_names() if args.clients == "all" else client_refs(args.clients):
                client = get_client(ref)
                client.environment()
                print(f"client {client.name} {client.version}: {' '.join(client.environment().command)[:100]}")
        return 0
    if args.command == "clients":
        return _clients(args)
    if args.command == "cluster":
        return _cluster(args, version)
    if args.command == "images":
        return _images(args, version)
    if args.command == "specs":
        return _specs(args)
    if args.command in ("run", "replay"):
        from harness.commands import replay_command, run_command

        return run_command(args) if args.command == "run" else replay_command(args)
    if args.command == "demo":
        from harness.demo import run_demo

        return run_demo(kafka_version=version, report_root=args.report_dir)
    raise UsageError(f"unknown command {args.command}")


def _specs(args: argparse.Namespace) -> int:
    from harness.spec import find_specs, json_schema

    if args.action == "schema":
        print(json.dumps(json_schema(), indent=2))
        return 0
    loaded = find_specs(args.paths)
    for item in loaded:
        if args.action == "list":
            print(f"{item.id}: {item.spec.title}")
    if args.action == "validate":
        print(f"{len(loaded)} spec(s) valid")
    return 0


def _images(args: argparse.Namespace, version: str) -> int:
    from harness.cluster import images

    if args.action == "list":
        chosen = images.resolve(version, args.images)
        print(f"kafka: {chosen.kafka}\nproxy: {chosen.proxy}")
        return 0
    times = images.build_all(version, mirror=args.mirror, rebuild=args.rebuild)
    for name, seconds in times.items():
        print(f"{name}: " + ("already built" if seconds is None else f"built in {seconds:.1f} s"))
    return 0


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


def _cluster(args: argparse.Namespace, version: str) -> int:
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


if __name__ == "__main__":
    raise SystemExit(main())
