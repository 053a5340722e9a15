"""Client config keys: the property names each dialect knows, for producers and for consumers,
the settings the two dialects name differently, and the ones a dialect drops or cannot express.

A spec writes client settings with Kafka's property names, in either dialect: ``librdkafka``
(confluent-kafka) or ``java`` (kafka-clients; the franz-go, kafka-python and aiokafka drivers
take Java names too). A consumer-group member is a consumer. Any setting may be given the value
:data:`DEFAULT`: kch then does not set it at all, and the client keeps its own default.
The key lists themselves are data, in :mod:`harness.vocab.config_keys` (where they came from is
said there).
"""

from __future__ import annotations

import difflib

from harness.vocab import config_keys as _keys

DEFAULT = "default"
DIALECTS = ("librdkafka", "java")
ROLES = ("producer", "consumer")
LIBRDKAFKA_VERSION = _keys.LIBRDKAFKA_VERSION
JAVA_VERSION = _keys.JAVA_VERSION
_LABEL = {"librdkafka": "librdkafka", "java": "the Java client"}

_KNOWN: dict[str, dict[str, frozenset[str]]] = {
    "librdkafka": {"producer": frozenset(_keys.LIBRDKAFKA_BOTH + _keys.LIBRDKAFKA_PRODUCER),
                   "consumer": frozenset(_keys.LIBRDKAFKA_BOTH + _keys.LIBRDKAFKA_CONSUMER)},
    "java": {"producer": frozenset(_keys.JAVA_PRODUCER), "consumer": frozenset(_keys.JAVA_CONSUMER)},
}

# One setting, its librdkafka and its Java name (librdkafka accepts some Java names as aliases
# too; kch gives each client its own name).
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("message.timeout.ms", "delivery.timeout.ms"),
    ("socket.timeout.ms", "request.timeout.ms"),
    ("queue.buffering.max.ms", "linger.ms"),
    ("fetch.wait.max.ms", "fetch.max.wait.ms"),
)
# One setting in different units: per target dialect, the name there and the factor to it.
SCALED: dict[str, dict[str, tuple[str, float]]] = {
    "java": {"queue.buffering.max.kbytes": ("buffer.memory", 1024)},
    "librdkafka": {"buffer.memory": ("queue.buffering.max.kbytes", 1 / 1024)},
}
# Tuning-only settings a dialect has no equivalent for: left out for it, with why.
DROPPED: dict[str, dict[str, str]] = {
    "java": {"batch.num.messages": "Java bounds a batch in bytes (batch.size), not messages"},
    "librdkafka": {},
}
# Settings a dialect cannot express and that change what a spec means: the spec is skipped.
UNSUPPORTED: dict[str, dict[str, str]] = {
    "java": {"queue.buffering.max.messages": "Java bounds its buffer in bytes (buffer.memory), not messages"},
    "librdkafka": {},
}
# What kch makes explicit for every producer, because the clients' defaults differ (a spec's
# own value wins; DEFAULT leaves the client's default).
PRODUCER_DEFAULTS: dict[str, str] = {"acks": "all", "enable.idempotence": "false"}
# Keys kch (its runners and drivers) sets itself in each role; a spec may give them too.
KCH_SETS: dict[str, frozenset[str]] = {
    "producer": frozenset({"bootstrap.servers", "client.id", "acks", "enable.idempotence", "max.block.ms",
                           "key.serializer", "value.serializer"}),
    "consumer": frozenset({"bootstrap.servers", "client.id", "group.id", "group.instance.id", "group.protocol",
                           "group.remote.assignor", "partition.assignment.strategy", "enable.auto.commit",
                           "auto.offset.reset", "enable.partition.eof", "session.timeout.ms",
                           "heartbeat.interval.ms", "default.api.timeout.ms", "key.deserializer",
                           "value.deserializer"}),
}

_TO_JAVA = dict(SYNONYMS)
# Of a librdkafka alias pair where one name is Java's, the other becomes it (request.required.acks
# ~ acks, message.send.max.retries ~ retries, max.in.flight ~ max.in.flight.requests.per.connection).
_JAVA_NAMES = _KNOWN["java"]["producer"] | _KNOWN["java"]["consumer"]
for _pair in _keys.LIBRDKAFKA_ALIASES:
    _java = [n for n in _pair if n in _JAVA_NAMES]
    if len(_java) == 1:
        _TO_JAVA.setdefault(next(n for n in _pair if n not in _JAVA_NAMES), _java[0])
_TO_LIBRDKAFKA = {java: rdk for rdk, java in SYNONYMS}
_RENAME = {"java": _TO_JAVA, "librdkafka": _TO_LIBRDKAFKA}

# Pairs of names for one setting, and how they relate: a spec gives each setting once.
_ONE_SETTING: dict[frozenset[str], str] = {}
for _r, _j in SYNONYMS:
    _ONE_SETTING[frozenset((_r, _j))] = "librdkafka and Java names"
for _r, (_j, _) in SCALED["librdkafka"].items():
    _ONE_SETTING[frozenset((_r, _j))] = "Java's in bytes, librdkafka's in kilobytes"
for _a, _t in _keys.LIBRDKAFKA_ALIASES:
    _ONE_SETTING.setdefault(frozenset((_a, _t)), "one is librdkafka's alias for the other")


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role {role!r}: one of {', '.join(ROLES)}")
    return role


def known(dialect: str, role: str) -> frozenset[str]:
    """The property names `dialect` knows for a `role` ("producer" or "consumer")."""
    if dialect not in _KNOWN:
        raise ValueError(f"dialect {dialect!r}: one of {', '.join(DIALECTS)}")
    return _KNOWN[dialect][_role(role)]


def accepted(role: str) -> frozenset[str]:
    """The names a spec may give for a `role`: those either dialect knows, and kch's own."""
    return known("librdkafka", role) | known("java", role) | KCH_SETS[_role(role)]


def is_default(value: object) -> bool:
    """Whether `value` is :data:`DEFAULT` (leave the setting at the client's own default)."""
    return isinstance(value, str) and value.strip().lower() == DEFAULT


def rename(key: str, dialect: str) -> str:
    """`key`'s name in `dialect` (itself where the dialects agree or no synonym is known)."""
    return _RENAME[dialect].get(key, key)


def other_dialect_only(key: str, dialect: str, role: str) -> str | None:
    """The other dialect's name when only it knows `key` (after renaming) for `role`, else None."""
    name = rename(key, dialect)
    if name in known(dialect, role):
        return None
    other = "java" if dialect == "librdkafka" else "librdkafka"
    return other if key in known(other, role) else None


def label(dialect: str) -> str:
    """How a message names `dialect`."""
    return _LABEL[dialect]


def config_problems(config: dict, role: str) -> list[tuple[str, str]]:
    """(key, message) for every key of `config` no dialect knows for `role` (with the nearest
    known name, if one is near), and for every setting given under two names."""
    names = accepted(role)
    other = "consumer" if role == "producer" else "producer"
    out: list[tuple[str, str]] = []
    for key in config:
        if not isinstance(key, str):
            out.append((str(key), f"a setting's name is a string, not {type(key).__name__}"))
            continue
        if key in names:
            continue
        msg = f"unknown setting {key!r} (neither librdkafka nor the Java client knows it for a {role}"
        msg += f"; it is a {other} setting)" if key in accepted(other) else ")"
        near = difflib.get_close_matches(key, sorted(names), n=1, cutoff=0.8)
        if near:
            msg += f"; did you mean {near[0]!r}?"
        out.append((key, msg))
    keys = [k for k in config if isinstance(k, str)]
    for i, key in enumerate(keys):
        for earlier in keys[:i]:
            why = _ONE_SETTING.get(frozenset((earlier, key)))
            if why is not None:
                out.append((key, f"{earlier!r} and {key!r} are one setting ({why}); give it once"))
    return out
