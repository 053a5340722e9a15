"""Conformance runs: specs in, a RunResult and a report out. ``kch run``, ``kch replay`` and
the pytest plugin are thin layers over :func:`run_specs` and :func:`run_spec`.

Per spec: hypothesis draws plans (:mod:`harness.workload.explore`); each runs on a cluster of
the spec's shape (:mod:`harness.workload.runner`); its History is stored and checked
(:mod:`harness.checkers`) and judged against ``expect`` (:mod:`harness.verdict`); the shrunk
interesting run is saved as a counterexample (:mod:`harness.counterexample`).
"""

from __future__ import annotations

import logging
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from harness import __version__
from harness import counterexample as cx
from harness.checkers import check_all
from harness.clients import Client, Unsupported
from harness.clients.needs import missing
from harness.errors import KchError
from harness.history import History
from harness.results import ERROR, SKIPPED, ExampleResult, RunResult, SpecResult
from harness.spec.loader import LoadedSpec
from harness.spec.model import ClusterSpec, Spec
from harness.verdict import Judgement, check_expect, judge, spec_verdict
from harness.workload.explore import PROFILES, Profile, explore
from harness.workload.plan import Plan
from harness.workload.runner import run_example, topic_name

CLIENT_LOG = logging.getLogger("kch.client")


class ClusterPool:
    """One running cluster at a time, reused by every spec of the same shape."""

    def __init__(self, kafka_version: str, logs_to: Path | None = None, *, provider: str = "local",
                 images: str = "auto") -> None:
        self.kafka_version = kafka_version
        self.provider = provider
        self.images = images
        self.logs_to = logs_to
        self.shape: tuple[int, int] | None = None
        self.cluster = None

    def get(self, want: ClusterSpec):
        from harness.cluster import make_cluster

        shape = (want.brokers, want.controllers)
        if self.cluster is not None and self.shape == shape:
            return self.cluster
        self.close()
        cluster = make_cluster(self.provider, images=self.images, brokers=want.brokers,
                               controllers=want.controllers, kafka_version=self.kafka_version)
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


@dataclass
class Context:
    pool: ClusterPool
    client: Client
    profile: Profile
    seed: int
    out_dir: Path
    on_example: Callable[[str, ExampleResult], None] = lambda spec_id, ex: None

    def versions(self) -> dict:
        return {"harness": __version__, "kafka": self.pool.kafka_version, "provider": self.pool.provider,
                "client": self.client.name, "client_version": self.client.version,
                "library": self.client.library}


def _slug(spec_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "__", spec_id)


def run_plan(loaded: LoadedSpec, plan: Plan, ctx: Context, *, index: int, phase: str
             ) -> tuple[ExampleResult, Judgement, History]:
    """Run one plan of a spec and judge it. Infrastructure trouble becomes an ``error`` example."""
    spec = loaded.spec
    history = History()
    began = time.monotonic()
    rel = f"histories/{_slug(ctx.client.name)}/{_slug(loaded.id)}/{index:03d}.jsonl"
    try:
        cluster = ctx.pool.get(spec.cluster)
        if not cluster.healthy():
            from harness.faults import Nemesis
            Nemesis(cluster, History()).heal_all()
        if spec.group is not None:
            from harness.group.runner import run_group_example

            history, notes = run_group_example(spec, plan, cluster=cluster, client=ctx.client,
                                               topic=topic_name(loaded.id), history=history)
        else:
            history, notes = run_example(spec, plan, cluster=cluster, client=ctx.client,
                                         topic=topic_name(loaded.id), history=history)
    except KchError as exc:
        ctx.pool.close()          # never reuse a cluster that broke: the next example starts anew
        history.dump(ctx.out_dir / rel)
        ex = ExampleResult(index, plan.to_dict(), ERROR, duration_s=round(time.monotonic() - began, 2),
                           message=str(exc), history=rel, phase=phase)
        return ex, Judgement(ERROR), history
    history.dump(ctx.out_dir / rel)
    j = judge(check_all(history, list(spec.expect)), spec.expect)
    faults = [{k: v for k, v in e.detail.items()} | {"at": round(e.mono - history_start(history), 2)}
              for e in history if e.type == "fault" and e.phase in ("start", "fail")]
    message = "; ".join(filter(None, [j.message(spec.expect), *notes]))
    ex = ExampleResult(index, plan.to_dict(), j.verdict, anomalies=j.counts, unknown=j.undecided,
                       evidence=j.evidence, faults=faults, duration_s=round(time.monotonic() - began, 2),
                       message=message, history=rel, phase=phase)
    return ex, j, history


def summarise(loaded: LoadedSpec, runs: list[tuple[ExampleResult, Judgement]], began: float) -> SpecResult:
    """A spec's result from its examples' results and judgements."""
    spec = loaded.spec
    examples = [ex for ex, _ in runs]
    verdict, reason = spec_verdict(spec.expect, violated=any(j.violations for _, j in runs),
                                   reproduced=any(j.reproduced for _, j in runs),
                                   example_verdicts=[e.verdict for e in examples])
    return SpecResult(spec=loaded.id, title=spec.title, verdict=verdict, path=str(loaded.path),
                      covers=list(spec.covers), examples=len(examples),
                      duration_s=round(time.monotonic() - began, 1), expect=dict(spec.expect),
                      anomalies={a: sum(e.anomalies.get(a, 0) for e in examples) for a in spec.expect},
                      message=reason, example_results=examples)


def history_start(history: History) -> float:
    for e in history:
        return e.mono
    return 0.0


def run_spec(loaded: LoadedSpec, ctx: Context) -> SpecResult:
    """Explore one spec with the context's profile and seed; save its counterexample."""
    spec, differs = loaded.spec.for_client(ctx.client.name)
    loaded = LoadedSpec(loaded.id, loaded.path, spec)
    began = time.monotonic()
    runs: list[tuple[ExampleResult, Judgement, History]] = []
    why = missing(spec, ctx.client.capabilities, ctx.client.dialect, ctx.client.manifest.notes)
    if why is None and ctx.pool.provider not in spec.providers():
        why = f"needs --cluster {' or '.join(spec.providers())} (true network partitions)"
    if why is not None:
        return skipped(loaded, ctx.client, why)

    def run(plan: Plan, phase: str) -> tuple[ExampleResult, Judgement, History]:
        got = run_plan(loaded, plan, ctx, index=len(runs), phase=phase)
        runs.append(got)
        ctx.on_example(f"{loaded.id} [{ctx.client.name}]", got[0])
        return got

    try:
        found = explore(spec, run, lambda r: r[1].interesting, profile=ctx.profile, seed=ctx.seed,
                        fatal=lambda r: r[0].verdict == ERROR)
    except Unsupported as exc:        # the driver refused a setting at start
        return skipped(loaded, ctx.client, f"the driver refused: {exc}")
    result = summarise(loaded, [(ex, j) for ex, j, _ in runs], began)
    result.client = ctx.client.name
    if differs:
        result.message = f"{result.message} [for {ctx.client.name}: {differs}]"
    examples = result.example_results
    reason = result.message
    errors = [e.message for e in examples if e.verdict == ERROR]
    if errors:
        result.message = f"{reason}: {errors[0]}"
    if found.minimal is not None:
        plan, (ex, j, history) = found.minimal
        rel = f"counterexamples/{_slug(ctx.client.name)}/{_slug(loaded.id)}.json"
        cx.save(ctx.out_dir / rel, spec_id=loaded.id, spec_path=str(loaded.path),
                spec_data=_raw(loaded),
                plan=plan.to_dict(), seed=ctx.seed, versions=ctx.versions(), verdict=ex.verdict,
                message=ex.message, expect=dict(spec.expect), anomalies=ex.anomalies,
                evidence=ex.evidence, faults=ex.faults, history=history, history_file=ex.history)
        result.counterexample = rel
        result.replay = f"kch replay {ctx.out_dir / rel}"
        result.evidence, result.faults = ex.evidence, ex.faults
        result.message = f"{reason}; shrunk to: {plan.describe()} ({ex.message})"
    return result


def skipped(loaded: LoadedSpec, client: Client, why: str) -> SpecResult:
    """A spec the client cannot run: ``skipped`` with the reason, never ``pass``."""
    return SpecResult(spec=loaded.id, title=loaded.spec.title, verdict=SKIPPED, path=str(loaded.path),
                      client=client.name, covers=list(loaded.spec.covers), expect=dict(loaded.spec.expect),
                      message=f"skipped for {client.name}: {why}")


def _raw(loaded: LoadedSpec) -> dict:
    """The spec as written (YAML data), so that a replay validates exactly what ran."""
    import yaml

    return yaml.safe_load(loaded.path.read_text())


def new_run_id(label: str = "run") -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")[:-4] + f"-{label}"


@contextmanager
def session(out_dir: Path, kafka_version: str, clients: list[Client], *, provider: str = "local",
            images: str = "auto") -> Iterator[ClusterPool]:
    """A cluster pool whose logs (and the clients') end up under `out_dir`/logs; closed after,
    with every driver process the clients started."""
    pool = ClusterPool(kafka_version, logs_to=out_dir / "logs", provider=provider, images=images)
    handler = client_logs_to(out_dir / "logs" / "client.log")
    for c in clients:
        c.log_path = out_dir / "logs" / f"driver-{_slug(c.name)}.log"
    try:
        yield pool
    finally:
        for c in clients:
            c.close()
        pool.close()
        CLIENT_LOG.removeHandler(handler)
        handler.close()


def run_result(*, run_id: str, started: str, profile: str, seed: int, kafka_version: str,
               brokers: int, clients: list[Client], results: list[SpecResult],
               provider: str = "local") -> RunResult:
    described = [{"name": c.name, "version": c.version, "library": c.library} for c in clients]
    return RunResult(run_id=run_id, started_at=started, finished_at=now(), harness_version=__version__,
                     profile=profile, seed=seed,
                     cluster={"provider": provider, "kafka_version": kafka_version, "brokers": brokers},
                     client=described[0], clients=described, results=results)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def client_logs_to(path: Path) -> logging.Handler:
    """Send librdkafka's log lines to `path` (never to the console)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    CLIENT_LOG.addHandler(handler)
    CLIENT_LOG.propagate = False
    CLIENT_LOG.setLevel(logging.INFO)
    return handler


def run_specs(specs: list[LoadedSpec], *, clients: list[Client], kafka_version: str, profile: str,
              seed: int, report_dir: Path, label: str = "run", provider: str = "local",
              images: str = "auto", on_example: Callable[[str, ExampleResult], None] = lambda s, e: None,
              on_spec: Callable[[SpecResult], None] = lambda r: None) -> RunResult:
    """Run every spec with every client (grouped by cluster shape, one cluster at a time);
    return the results, one per (client, spec).

    The report files are written by the caller (:func:`harness.report.write_report`)."""
    for loaded in specs:
        for c in clients:
            try:
                check_expect(loaded.spec.for_client(c.name)[0].expect)
            except KchError as exc:
                raise type(exc)(f"{loaded.path}: expect: {exc}") from None
    run_id = new_run_id(label)
    out_dir = report_dir / run_id
    started = now()
    results: list[SpecResult] = []
    with session(out_dir, kafka_version, clients, provider=provider, images=images) as pool:
        contexts = [Context(pool, c, PROFILES[profile], seed, out_dir, on_example) for c in clients]
        shape = lambda s: (s.spec.cluster.brokers, s.spec.cluster.controllers)  # noqa: E731
        for loaded in sorted(specs, key=shape):
            for ctx in contexts:
                result = run_spec(loaded, ctx)
                results.append(result)
                on_spec(result)
    order = {s.id: n for n, s in enumerate(specs)}
    results.sort(key=lambda r: (order.get(r.spec, 0), [c.name for c in clients].index(r.client)
                                if r.client in [c.name for c in clients] else 0))
    return run_result(run_id=run_id, started=started, profile=profile, seed=seed,
                      kafka_version=kafka_version, clients=clients, results=results,
                      brokers=max((s.spec.cluster.brokers for s in specs), default=0),
                      provider=provider)


def _keep_logs(cluster, dest: Path) -> None:
    import shutil

    src = cluster.workdir / "logs"
    if src.exists():
        shutil.copytree(src, dest, dirs_exist_ok=True)


def spec_of(data: dict) -> Spec:
    return Spec.model_validate(data)


def replay(path: Path, *, client: Client, kafka_version: str | None, times: int,
           report_dir: Path, provider: str | None = None, images: str = "auto", on_example: Callable[[str, ExampleResult], None] = lambda s, e: None
           ) -> RunResult:
    """Run a saved counterexample's plan `times` times on a fresh cluster and judge it as the
    spec says (a violation fails again; a reproduction passes if it reproduces again)."""
    data = cx.load(path)
    try:
        spec = spec_of(data["spec_data"])
    except ValueError as exc:  # pydantic's ValidationError, as one line
        raise _bad(path, exc) from None
    spec, _ = spec.for_client(client.name)
    plan = Plan.from_dict(data["plan"])
    check_expect(spec.expect)
    loaded = LoadedSpec(data["spec"], Path(data.get("spec_path", path)), spec)
    version = kafka_version or data.get("versions", {}).get("kafka")
    provider = provider or data.get("versions", {}).get("provider", "local")
    run_id = new_run_id("replay")
    out_dir = report_dir / run_id
    started = now()
    began = time.monotonic()
    runs = []
    with session(out_dir, version, [client], provider=provider, images=images) as pool:
        ctx = Context(pool, client, PROFILES["ci"], int(data.get("seed", 0)), out_dir, on_example)
        for n in range(times):
            ex, j, _ = run_plan(loaded, plan, ctx, index=n, phase="replay")
            runs.append((ex, j))
            on_example(loaded.id, ex)
    result = summarise(loaded, runs, began)
    result.client = client.name
    result.message = f"replay of {path}: {result.message} ({plan.describe()})"
    worst = next((e for e in result.example_results if e.evidence), None)
    if worst is not None:
        result.evidence, result.faults = worst.evidence, worst.faults
    return run_result(run_id=run_id, started=started, profile="replay", seed=ctx.seed,
                      kafka_version=version, brokers=spec.cluster.brokers, clients=[client],
                      results=[result], provider=provider)


def _bad(path: Path, exc: Exception) -> KchError:
    from harness.errors import UsageError

    first = str(exc).splitlines()
    return UsageError(f"{path}:1: spec_data: {first[1] if len(first) > 1 else first[0]}")
