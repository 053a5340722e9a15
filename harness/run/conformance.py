"""Conformance runs: specs in, a RunResult and a report out. ``kch run``, ``kch replay`` and
the pytest plugin are thin layers over :func:`run_specs` and :func:`run_spec`.

Per spec: hypothesis draws plans (:mod:`harness.plan.explore`); each runs on a cluster of
the spec's shape (:mod:`harness.run.example`); its History is stored and checked
(:mod:`harness.checkers`) and judged against ``expect`` (:mod:`harness.judge.verdict`); the shrunk
interesting run is saved as a counterexample (:mod:`harness.run.counterexample`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from harness import __version__
from harness.checkers import check_all
from harness.clients import Client, Unsupported
from harness.clients.needs import missing
from harness.errors import KchError
from harness.history import History
from harness.judge.results import ERROR, SKIPPED, ExampleResult, RunResult, SpecResult
from harness.judge.verdict import Judgement, check_expect, judge, spec_verdict
from harness.plan.explore import PROFILES, Profile, explore
from harness.plan.plan import Plan
from harness.run import counterexample as cx
from harness.run.example import run_example, topic_name
from harness.run.pool import ClusterPool, session, slug
from harness.spec.loader import LoadedSpec


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


def run_plan(loaded: LoadedSpec, plan: Plan, ctx: Context, *, index: int, phase: str
             ) -> tuple[ExampleResult, Judgement, History]:
    """Run one plan of a spec and judge it. Infrastructure trouble becomes an ``error`` example."""
    spec = loaded.spec
    history = History()
    began = time.monotonic()
    rel = f"histories/{slug(ctx.client.name)}/{slug(loaded.id)}/{index:03d}.jsonl"
    try:
        cluster = ctx.pool.get(spec.cluster)
        if not cluster.healthy():
            from harness.faults import Nemesis
            Nemesis(cluster, History()).heal_all()
        run = run_example(spec, plan, cluster=cluster, client=ctx.client, topic=topic_name(loaded.id),
                          history=history)
    except KchError as exc:
        ctx.pool.close()          # never reuse a cluster that broke: the next example starts anew
        history.dump(ctx.out_dir / rel)
        ex = ExampleResult(index, plan.to_dict(), ERROR, duration_s=round(time.monotonic() - began, 2),
                           message=str(exc), history=rel, phase=phase)
        return ex, Judgement(ERROR), history
    history = run.history
    history.dump(ctx.out_dir / rel)
    j = judge(check_all(history, list(spec.expect)), spec.expect)
    if run.errors:                # a planned step did not apply: what ran is not what the plan says
        j = Judgement(ERROR, counts=j.counts, evidence=j.evidence)
    start = history_start(history)
    faults = [dict(e.detail) | {"at": round(e.mono - start, 2)}
              for e in history if e.type == "fault" and e.phase in ("start", "fail")]
    not_applied = [f"not applied: {e}" for e in run.errors]
    message = "; ".join(filter(None, [*not_applied, j.message(spec.expect), *run.notes]))
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
        rel = f"counterexamples/{slug(ctx.client.name)}/{slug(loaded.id)}.json"
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
    from harness.spec.yamlfile import read_yaml

    return read_yaml(loaded.path)[0]


def new_run_id(label: str = "run") -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")[:-4] + f"-{label}"


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


