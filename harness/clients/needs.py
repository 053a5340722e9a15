"""What a spec needs from a client, and whether a client has it.

A spec's client config is written with Kafka's property names. Where librdkafka and the Java
client name one setting differently, either name may be used; :func:`translate` gives each
client its own dialect. Defaults that differ between clients (``acks``, ``enable.idempotence``)
are made explicit, so every client runs a spec with the same meaning. A setting a dialect has
no equivalent for makes the spec ``skipped`` for that client, as does a missing capability.
"""

from __future__ import annotations

from harness.spec.model import Spec

# The same setting under its librdkafka and its Java name.
_SAME = [("message.timeout.ms", "delivery.timeout.ms"), ("socket.timeout.ms", "request.timeout.ms"),
         ("queue.buffering.max.ms", "linger.ms"), ("fetch.wait.max.ms", "fetch.max.wait.ms")]
_TO_JAVA = dict(_SAME)
_TO_LIBRDKAFKA = {j: r for r, j in _SAME}
# Settings one dialect has no equivalent for: tuning-only ones are dropped, the rest unsupported.
_DROP = {"java": {"batch.num.messages"}, "librdkafka": set()}
_NONE = {"java": {"queue.buffering.max.messages": "Java bounds its buffer in bytes (buffer.memory), not messages"},
         "librdkafka": {}}
# Settings whose unit differs: the name in the target dialect and the factor to it.
_SCALED = {"java": {"queue.buffering.max.kbytes": ("buffer.memory", 1024)},
           "librdkafka": {"buffer.memory": ("queue.buffering.max.kbytes", 1 / 1024)}}
PRODUCER_DEFAULTS = {"acks": "all", "enable.idempotence": "false"}


class NoEquivalent(Exception):
    """A config key has no equivalent in a client's dialect."""


def translate(config: dict, dialect: str, *, producer: bool = False) -> dict:
    """`config` (values as given) in `dialect`'s names, values as strings, with the
    producer defaults explicit. Raises :class:`NoEquivalent` naming the key."""
    out: dict[str, str] = {}
    rename = _TO_JAVA if dialect == "java" else _TO_LIBRDKAFKA
    base = {**PRODUCER_DEFAULTS, **config} if producer else dict(config)
    for key, value in base.items():
        if key in _DROP[dialect]:
            continue
        if key in _NONE[dialect]:
            raise NoEquivalent(f"{key} has no {dialect} equivalent ({_NONE[dialect][key]})")
        if key in _SCALED[dialect]:
            name, factor = _SCALED[dialect][key]
            out[name] = str(max(1, round(float(value) * factor)))
            continue
        out[rename.get(key, key)] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def needs(spec: Spec) -> list[tuple[str, str]]:
    """Each capability the spec needs, with why."""
    out = [("assign", "the workload's consumers and the final drain read assigned partitions")]
    if str(spec.producer.config.get("enable.idempotence", "false")).lower() == "true":
        out.append(("idempotence", "producer.config enable.idempotence is true"))
    g = spec.group
    if g is not None:
        out.append((f"group:{g.protocol}", f"group.protocol is {g.protocol}"))
        if g.static:
            out.append(("group:static", "group.static is true"))
        mode = {"commit-after-process": "commit:sync", "commit-async": "commit:async",
                "auto-commit": "commit:auto"}[g.mode]
        out.append((mode, f"group.mode is {g.mode}"))
        if "stall" in g.actions:
            out.append(("stall", "group.actions has stall"))
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
