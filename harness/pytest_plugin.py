"""kch's pytest plugin: specs as test items, and a shared real cluster for tests.

Collection: every ``*.yaml`` below a directory named ``specs`` becomes one item, run like
``kch run`` does (profile ``--kch-profile``, seed ``--kch-seed``); a failing item shows the
anomalies, their evidence and the replay command, not a traceback. At the end of the session
the items' results are written as a report (``--kch-report-dir``).

Fixtures:
- ``kch_cluster`` (session): a 3-node KRaft cluster behind toxiproxy (``--kch-cluster local``,
  the default, or ``docker``), started once and
  shared with the spec items (one cluster at a time on a small machine).
- ``kch_nemesis``: a :class:`~harness.faults.Nemesis` on it; after the test, ``heal_all()``
  returns the cluster to full health for the next one.
- ``kch_topic``: a factory for fresh, uniquely named topics.
Heavy imports happen lazily, so loading the plugin costs nothing.
"""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kch", "kch: Kafka conformance and chaos harness")
    group.addoption("--kch-brokers", type=int, default=3, help="brokers of the session cluster (default 3)")
    group.addoption("--kch-kafka-version", default=None, help="Kafka version of the session cluster")
    group.addoption("--kch-cluster", default="local", choices=["local", "docker"],
                    help="provider of the session cluster (default local)")
    group.addoption("--kch-images", default="auto", choices=["auto", "official", "kch"],
                    help="images of a docker cluster (default auto)")
    group.addoption("--kch-profile", default="ci", choices=["ci", "thorough"], help="profile of spec items")
    group.addoption("--kch-seed", type=int, default=None, help="hypothesis seed of spec items (default random)")
    group.addoption("--kch-client", default="confluent-kafka",
                    help="client(s) of spec items, comma-separated (NAME, NAME@VERSION): one item per client and spec")
    group.addoption("--kch-drivers", default="",
                    help="clients whose drivers tests/test_drivers.py checks (default: every built-in client)")
    group.addoption("--kch-report-dir", type=Path, default=Path("reports"), help="where spec items report")


def pytest_configure(config: pytest.Config) -> None:
    seed = config.getoption("--kch-seed")
    config.stash[_STATE] = {"pool": None, "ctx": None, "results": [],
                            "seed": seed if seed is not None else random.randrange(1, 2**31)}


def pytest_report_header(config: pytest.Config) -> str:
    state = config.stash[_STATE]
    return (f"kch: spec items run with profile {config.getoption('--kch-profile')}, seed {state['seed']}, "
            f"cluster {config.getoption('--kch-cluster')}")


def _version(config: pytest.Config) -> str:
    from harness.provision import DEFAULT_KAFKA_VERSION

    return config.getoption("--kch-kafka-version") or DEFAULT_KAFKA_VERSION


def _pool(config: pytest.Config):
    state = config.stash[_STATE]
    if state["pool"] is None:
        from harness.run.conformance import new_run_id
        from harness.run.pool import ClusterPool

        from datetime import datetime, timezone

        state["run_id"] = new_run_id("pytest")
        state["started"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        out = config.getoption("--kch-report-dir") / state["run_id"]
        state["out"] = out
        state["pool"] = ClusterPool(_version(config), logs_to=out / "logs",
                                    provider=config.getoption("--kch-cluster"),
                                    images=config.getoption("--kch-images"))
    return state["pool"]


def _clients(config: pytest.Config) -> list[str]:
    from harness.clients import client_refs

    return client_refs(config.getoption("--kch-client"))


def _ctx(config: pytest.Config, ref: str):
    """The Context of client `ref` (one per client, all on the session's cluster pool)."""
    state = config.stash[_STATE]
    contexts = state.setdefault("contexts", {})
    if ref not in contexts:
        from harness.clients import get_client
        from harness.run.conformance import Context
        from harness.run.pool import client_logs_to, slug
        from harness.plan.explore import PROFILES

        pool = _pool(config)
        client = get_client(ref)
        client.log_path = state["out"] / "logs" / f"driver-{slug(client.name)}.log"
        contexts[ref] = Context(pool, client, PROFILES[config.getoption("--kch-profile")], state["seed"], state["out"])
        state["ctx"] = state["ctx"] or contexts[ref]
        if "log_handler" not in state:
            state["log_handler"] = client_logs_to(state["out"] / "logs" / "client.log")
    return contexts[ref]


# --- spec items --------------------------------------------------------------------------------
def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix == ".yaml" and any(p.name == "specs" for p in file_path.parents):
        return SpecFile.from_parent(parent, path=file_path)
    return None


class SpecFile(pytest.File):
    def collect(self):
        from harness.spec import load_spec

        loaded = load_spec(self.path)          # a bad spec fails collection with file:line: field
        refs = _clients(self.config)
        for ref in refs:
            name = loaded.id if len(refs) == 1 else f"{loaded.id}[{ref}]"
            item = SpecItem.from_parent(self, name=name, loaded=loaded, client=ref)
            item.add_marker(pytest.mark.cluster)
            item.add_marker(pytest.mark.timeout(1800))
            yield item


class SpecFailed(Exception):
    """A spec's expectations were not met; the message is the rendered result."""


class SpecItem(pytest.Item):
    def __init__(self, *, loaded, client: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.loaded, self.client = loaded, client

    def runtest(self) -> None:
        from harness.run.conformance import run_spec
        from harness.judge.results import PASS, SKIPPED

        result = run_spec(self.loaded, _ctx(self.config, self.client))
        self.config.stash[_STATE]["results"].append(result)
        if result.verdict == SKIPPED:         # a capability the client lacks, never a pass
            pytest.skip(result.message)
        if result.verdict != PASS:
            raise SpecFailed(_render(result))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, SpecFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, 0, f"spec {self.name}"


def _render(result) -> str:
    from harness.report.junit import failure_text

    return f"{result.verdict.upper()}: {result.spec}: {result.title}\n{failure_text(result)}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash[_STATE]
    pool = state["pool"]
    if pool is None:
        return
    for ctx in state.get("contexts", {}).values():
        ctx.client.close()
    pool.close()
    handler = state.pop("log_handler", None)
    if handler is not None:
        from harness.run.pool import CLIENT_LOG

        CLIENT_LOG.removeHandler(handler)
        handler.close()
    if state["results"]:
        _write_report(session.config, state)


def _write_report(config: pytest.Config, state: dict) -> None:
    from harness.run.conformance import run_result
    from harness.report import write_report

    run = run_result(run_id=state["run_id"], started=state["started"],
                     profile=config.getoption("--kch-profile"), seed=state["seed"],
                     kafka_version=_version(config), brokers=config.getoption("--kch-brokers"),
                     clients=[c.client for c in state.get("contexts", {}).values()], results=state["results"],
                     provider=config.getoption("--kch-cluster"))
    write_report(run, state["out"])
    state["written"] = state["out"]


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    out = config.stash[_STATE].get("written")
    if out is not None:
        terminalreporter.write_line(f"kch: spec report in {out}/summary.md")


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kch_cluster(request: pytest.FixtureRequest):
    from harness.spec.model import ClusterSpec

    return _pool(request.config).get(ClusterSpec(brokers=request.config.getoption("--kch-brokers")))


@pytest.fixture
def kch_nemesis(kch_cluster):
    from harness.faults import Nemesis

    nemesis = Nemesis(kch_cluster)
    yield nemesis
    nemesis.heal_all()


_topic_ids = itertools.count()


@pytest.fixture
def kch_topic(request: pytest.FixtureRequest, kch_cluster):
    """``kch_topic(partitions=3, replication_factor=3, config={...}) -> name`` of a new topic."""
    base = re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:60]

    def make(*, partitions: int = 3, replication_factor: int | None = None,
             config: dict[str, str] | None = None) -> str:
        name = f"{base}-{next(_topic_ids)}"
        kch_cluster.create_topic(name, partitions=partitions, replication_factor=replication_factor,
                                 config=config or {"min.insync.replicas": "2"})
        return name

    return make
