"""``kch run`` and ``kch replay``: arguments in, a report written, an exit code out."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from harness.errors import UsageError
from harness.judge.results import RunResult


def _finish(run: RunResult, report_dir: Path) -> int:
    from harness.report import render_console, write_report

    out = report_dir / run.run_id
    write_report(run, out)
    print(render_console(run))
    print(f"report: {out}/summary.md (also report.json, junit.xml, index.html)")
    return run.exit_code()


def check_provider(provider: str, kafka_version: str, images: str) -> None:
    """Before any work: a docker run needs an engine and its images (else exit 3 with the fix)."""
    if provider == "docker":
        from harness.cluster import images as docker_images

        docker_images.resolve(kafka_version, images)


def run_command(args: argparse.Namespace) -> int:
    from harness.clients import client_refs, get_client
    from harness.run.conformance import run_specs
    from harness.cli.progress import Progress
    from harness.provision import DEFAULT_KAFKA_VERSION
    from harness.spec.suite import resolve_targets

    targets = args.targets or ["ci"]
    specs, suite = resolve_targets(targets)
    if not specs:
        raise UsageError(f"{' '.join(targets)}: no specs found")
    model = suite.model if suite else None
    cluster = args.cluster or (model.cluster if model else "local")
    if cluster == "external":
        raise UsageError("cluster external: not available yet; use local or docker")
    check_provider(cluster, args.kafka_version or DEFAULT_KAFKA_VERSION, args.images)
    refs = client_refs(args.client) if args.client else (model.clients if model else ["confluent-kafka"])
    clients = [get_client(ref) for ref in refs]
    for c in clients:                 # install now: a version that is not served is exit 2 before any work
        c.environment()
    profile = args.profile or (model.profile if model else "ci")
    seed = args.seed if args.seed is not None else (model.seed if model and model.seed is not None
                                                    else random.randrange(1, 2**31))
    label = suite.name if suite else "run"
    names = ", ".join(f"{c.name} {c.version}" for c in clients)
    print(f"kch run: {len(specs)} spec(s), profile {profile}, seed {seed}, client(s) {names}, cluster {cluster}",
          file=sys.stderr, flush=True)
    progress = Progress(len(specs) * len(clients))
    try:
        run = run_specs(specs, clients=clients, kafka_version=args.kafka_version or DEFAULT_KAFKA_VERSION,
                        profile=profile, seed=seed, report_dir=args.report_dir, label=label,
                        provider=cluster, images=args.images, on_example=progress.example, on_spec=progress.spec)
    finally:
        progress.close()
    return _finish(run, args.report_dir)


def replay_command(args: argparse.Namespace) -> int:
    from harness.clients import get_client
    from harness.run.replay import replay
    from harness.provision import DEFAULT_KAFKA_VERSION
    from harness.cli.progress import Progress

    if args.times < 1:
        raise UsageError(f"--times {args.times}: must be at least 1")
    client = get_client(args.client or _recorded_client(args.counterexample))
    client.environment()
    if args.cluster:
        check_provider(args.cluster, args.kafka_version or DEFAULT_KAFKA_VERSION, args.images)
    progress = Progress(1)
    try:
        run = replay(args.counterexample, client=client, kafka_version=args.kafka_version,
                     times=args.times, report_dir=args.report_dir, provider=args.cluster,
                     images=args.images, on_example=progress.example)
    finally:
        progress.close()
    return _finish(run, args.report_dir)


def _recorded_client(path: Path) -> str:
    """The client a counterexample was found with (NAME or NAME@VERSION), else the default."""
    import json

    try:
        return json.loads(path.read_text()).get("versions", {}).get("client") or "confluent-kafka"
    except (OSError, ValueError, AttributeError):
        return "confluent-kafka"        # replay() itself reports an unreadable file
