"""``kch``: the command line, a thin layer over the harness's functions.

:mod:`.parser` is the grammar; :mod:`.run` runs specs and replays counterexamples;
:mod:`.cluster` keeps a cluster up between commands; :mod:`.tools` lists, validates and
describes specs, clients and images. Exit codes: 0 success, 1 non-conformance, 2 bad input,
3 infrastructure, 4 only undecided results, 130 interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys

from harness.cli.parser import parser
from harness.errors import KchError, UsageError


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)   # even when started in the background
    try:
        args = parser().parse_args(argv)
        return _dispatch(args)
    except KchError as exc:
        print(f"kch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kch: interrupted; everything started was stopped", file=sys.stderr)
        return 130


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
        from harness.cli.tools import clients_command

        return clients_command(args)
    if args.command == "cluster":
        from harness.cli.cluster import cluster_command

        return cluster_command(args, version)
    if args.command == "images":
        from harness.cli.tools import images_command

        return images_command(args, version)
    if args.command == "specs":
        from harness.cli.tools import specs_command

        return specs_command(args)
    if args.command in ("run", "replay"):
        from harness.cli.run import replay_command, run_command

        return run_command(args) if args.command == "run" else replay_command(args)
    raise UsageError(f"unknown command {args.command}")
