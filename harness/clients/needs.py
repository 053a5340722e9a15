"""What a spec needs from a client, and whether a client has it.

A spec's client config is written with Kafka's property names. Where librdkafka and the Java
client name one setting differently, either name may be used; :func:`translate` gives each
client its own dialect. Defaults that differ between clients (``acks``, ``enable.idempotence``)
are made explicit, so every client runs a spec with the same meaning; a setting given as
``default`` is not set at all (the client's own default). A setting a dialect has no equivalent
for makes the spec ``skipped`` for that client, as does a missing capability. The names, synonyms
and what each dialect lacks are :mod:`harness.vocab.config`'s.
"""

from __future__ import annotations

from harness.spec.model import Spec
from harness.vocab import config as vocab
from harness.vocab.config import DEFAULT, PRODUCER_DEFAULTS

__all__ = ["DEFAULT", "PRODUCER_DEFAULTS", "NoEquivalent", "missing", "needs", "translate"]


class NoEquivalent(Exception):
    """A config key has no equivalent in a client's dialect."""


def translate(config: dict, dialect: str, *, producer: bool = False) -> dict:
    """`config` (values as given) in `dialect`'s names, values as strings, with the
    producer defaults explicit. A key set to ``default`` is left out (the client keeps its own
    default, also where kch would make one explicit). Raises :class:`NoEquivalent` naming the
    key, for a key only the other dialect knows."""
    out: dict[str, str] = {}
    role = "producer" if producer else "consumer"
    base = {**PRODUCER_DEFAULTS, **config} if producer else dict(config)
    for key, value in base.items():
        if vocab.is_default(value) or key in vocab.DROPPED[dialect]:
            continue
        if key in vocab.UNSUPPORTED[dialect]:
            raise NoEquivalent(f"{key} has no {dialect} equivalent ({vocab.UNSUPPORTED[dialect][key]})")
        if key in vocab.SCALED[dialect]:
            name, factor = vocab.SCALED[dialect][key]
            out[name] = str(max(1, round(float(value) * factor)))
            continue
        other = vocab.other_dialect_only(key, dialect, role)
        if other is not None:
            raise NoEquivalent(f"{key} has no {dialect} equivalent (only {vocab.label(other)} knows it "
                               f"for a {role})")
        out[vocab.rename(key, dialect)] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _idempotent(spec: Spec) -> bool:
    value = spec.producer.config.get("enable.idempotence", PRODUCER_DEFAULTS["enable.idempotence"])
    return not vocab.is_default(value) and str(value).lower() == "true"


def needs(spec: Spec) -> list[tuple[str, str]]:
    """Each capability the spec needs, with why."""
    out = [("assign", "the workload's consumers and the final drain read assigned partitions")]
    if _idempotent(spec):
        out.append(("idempotence", "producer.config enable.idempotence is true"))
    g = spec.group
    if g is not None:
        out.append((f"group:{g.protocol}", f"group.protocol is {g.protocol}"))
        if g.static:
            out.append(("group:static", "group.static is true"))
        mode = {"commit-after-process": "commit:sync", "commit-async": "commit:async",
                "auto-commit": "commit:auto"}[g.mode]
        out.append((mode, f"group.mode is {g.mode}"))
    for where, menu in (("group", g), ("consumer", spec.consumer)):
        for action in ("stall", "pause-partitions", "resubscribe"):
            if menu is not None and action in menu.actions:
                out.append((action, f"{where}.actions has {action}"))
    return out


def missing(spec: Spec, capabilities: set[str], dialect: str, notes: dict[str, str] | None = None) -> str | None:
    """Why a client with `capabilities` and config `dialect` cannot run `spec`, or None.
    `notes` say why a client lacks a capability (from its manifest)."""
    notes = notes or {}
    lacking = [f"{cap} ({why}{'; ' + notes[cap] if cap in notes else ''})"
               for cap, why in needs(spec) if cap not in capabilities]
    if lacking:
        return "client lacks " + "; ".join(lacking)
    sections = [("producer.config", spec.producer.config, True), ("consumer.config", spec.consumer.config, False)]
    if spec.group is not None:
        sections.append(("group.config", spec.group.config, False))
    for where, config, producer in sections:
        try:
            translate(config, dialect, producer=producer)
        except NoEquivalent as exc:
            return f"{where}: {exc}"
    return None
