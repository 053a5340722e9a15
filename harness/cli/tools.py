"""``kch specs``, ``kch clients`` and ``kch images``: list, validate and describe."""

from __future__ import annotations

import argparse
import json


def clients_command(args: argparse.Namespace) -> int:
    from harness.clients import builtin_names, load_manifest

    manifests = [load_manifest(n)[0] for n in builtin_names()]
    if args.json:
        print(json.dumps([m.model_dump() for m in manifests], indent=2))
        return 0
    for m in manifests:
        print(f"{m.name:<16} {m.version:<9} {m.language:<7} {m.library}")
        print(f"{'':<16} {' '.join(m.capabilities)}")
    return 0


def specs_command(args: argparse.Namespace) -> int:
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


def images_command(args: argparse.Namespace, version: str) -> int:
    from harness.cluster import images

    if args.action == "list":
        chosen = images.resolve(version, args.images)
        print(f"kafka: {chosen.kafka}\nproxy: {chosen.proxy}")
        return 0
    times = images.build_all(version, mirror=args.mirror, rebuild=args.rebuild)
    for name, seconds in times.items():
        print(f"{name}: " + ("already built" if seconds is None else f"built in {seconds:.1f} s"))
    return 0
