"""The command line's grammar: every command, its arguments and their help (argparse).
A wrong flag is a one-line error and exit 2, never a usage dump."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import __version__
from harness.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def parser() -> argparse.ArgumentParser:
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
    provider_args(up)
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
    provider_args(run, default=None)
    run.add_argument("--kafka-version", default=None)
    run.add_argument("--profile", default=None, choices=["ci", "thorough"])
    run.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random, printed)")
    run.add_argument("--report-dir", type=Path, default=Path("reports"))

    rp = sub.add_parser("replay", help="run a saved counterexample again")
    rp.add_argument("counterexample", type=Path)
    rp.add_argument("--times", type=int, default=1, help="how many times to run it (default 1)")
    rp.add_argument("--client", default=None)
    provider_args(rp, default=None)
    rp.add_argument("--kafka-version", default=None)
    rp.add_argument("--report-dir", type=Path, default=Path("reports"))
    return p


def provider_args(p: argparse.ArgumentParser, default: str | None = "local") -> None:
    p.add_argument("--cluster", default=default, choices=["local", "docker"],
                   help="local: JVMs on loopback; docker: containers (true partitions too)"
                   + ("" if default else " (default: the suite's, else local)"))
    p.add_argument("--images", default="auto", choices=["auto", "official", "kch"],
                   help="docker images: official (apache/kafka), kch (kch images build), auto (default)")
