"""``kch replay``: a saved counterexample's plan, run again on a fresh cluster and judged as
its spec says."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from harness.clients import Client
from harness.errors import KchError, UsageError
from harness.judge.results import ExampleResult, RunResult
from harness.judge.verdict import check_expect
from harness.plan.explore import PROFILES
from harness.plan.plan import Plan
from harness.run import counterexample as cx
from harness.run.conformance import Context, new_run_id, now, run_plan, run_result, summarise
from harness.run.pool import session
from harness.spec.loader import LoadedSpec
from harness.spec.model import Spec


def spec_of(data: dict) -> Spec:
    """The spec a counterexample saved, checked whole as the loader checks a file."""
    from harness.spec.checks import check_spec

    spec = Spec.model_validate(data)
    problems = check_spec(spec)
    if problems:
        loc, what = problems[0]
        raise ValueError(f"{'.'.join(map(str, loc))}: {what}")
    return spec


def plan_of(path: Path, data: object) -> Plan:
    """The plan a counterexample saved (a plan of another kch version is bad input)."""
    try:
        plan = Plan.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}:1: plan: not a plan this kch can run ({type(exc).__name__}: "
                         f"{str(exc)[:80]}); it may come from another version of kch") from None
    late = [f.at for f in plan.faults if not 0 <= f.at <= 3600] + [a.at for a in plan.actions if not 0 <= a.at <= 3600]
    if late or not 0 < plan.messages <= 1_000_000:
        raise UsageError(f"{path}:1: plan: out of range (messages {plan.messages}, times {late[:3]})")
    return plan


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
    plan = plan_of(path, data.get("plan"))
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
    first = str(exc).splitlines() or [type(exc).__name__]
    return UsageError(f"{path}:1: spec_data: {(first[1] if len(first) > 1 else first[0]).strip()}")
