"""Whole-spec checks: what a run would trip over, found at load.

:func:`check_spec` returns every problem as ``(key path, message)``, the path in the spec's
own field names (``("faults", "from", 2, "link")``), so the loader can name file, line and
field. Checked: node numbers against the cluster, link selectors, toxic attributes (names,
types, ranges), options that belong to another kind, ``for`` only on faults and actions that
last, reader actions per kind of reader, split sides, and client and broker config keys.
"""

from __future__ import annotations

import re
from typing import Iterator

from harness.spec.model import Fault, FaultChoice, Spec
from harness.vocab.actions import ACTIONS
from harness.vocab.faults import DOWN, FAULT_KINDS, SPLIT_CUTS, TARGET_WORDS, TOXICS
from harness.vocab.cluster import reserved_broker_key
from harness.vocab.words import did_you_mean

Problem = tuple[tuple, str]
_NODE = re.compile(r"node:(\d+)")
_CONTROLLER = re.compile(r"controller:(\d+)")
LINK_FORMS = ("clients", "client->T", "S->D", "links-of:T", "replication-of:T", "controller-links-of:T")


def check_spec(spec: Spec) -> list[Problem]:
    """Every problem of `spec` a run would trip over, in file order as far as possible."""
    return [*_clients(spec), *_faults(spec), *_actions(spec)]


# --- nodes and targets ------------------------------------------------------------------------
def _nodes(spec: Spec) -> int:
    return spec.cluster.brokers + spec.cluster.controllers


def _target_problem(spec: Spec, word: str) -> str | None:
    match = _NODE.fullmatch(word)
    if match:
        n = int(match.group(1))
        return None if 1 <= n <= _nodes(spec) else f"{word}: no such node (the cluster has nodes 1..{_nodes(spec)})"
    if word in TARGET_WORDS:
        if word == "coordinator" and spec.group is None:
            return "coordinator: only a group spec has a group coordinator"
        if word == "follower" and spec.topic.replication_factor < 2:
            return "follower: the topic has one replica (replication_factor 1), so no follower"
        return None
    return f"{word!r} is not a target: {', '.join(TARGET_WORDS)} or node:N{did_you_mean(word, TARGET_WORDS)}"


def link_problem(spec: Spec, selector: str) -> str | None:
    """Why `selector` names no link of the spec's cluster (None if it does)."""
    s = selector.strip()
    if s == "clients":
        return None
    for prefix in ("links-of:", "replication-of:", "controller-links-of:"):
        if s.startswith(prefix):
            return _target_problem(spec, s[len(prefix):])
    if "->" not in s:
        return (f"link {selector!r}: expected one of {', '.join(LINK_FORMS)}"
                + did_you_mean(s, ["clients", "links-of:leader", "replication-of:leader"]))
    src, dst = s.split("->", 1)
    for end, side in ((src, "source"), (dst, "destination")):
        if end == "client" and side == "source":
            continue
        match = _CONTROLLER.fullmatch(end)
        if match:
            n = int(match.group(1))
            if not 1 <= n <= _nodes(spec):
                return f"link {selector!r}: {end}: no such node (nodes 1..{_nodes(spec)})"
            continue
        why = _target_problem(spec, end)
        if why:
            return f"link {selector!r}: {why}" + ("" if end != "clients" else "; clients is a link set on its own")
    if src == dst and src not in ("random",):
        return f"link {selector!r}: a node's traffic to itself is not proxied"
    return None


# --- faults -------------------------------------------------------------------------------------
def _faults(spec: Spec) -> Iterator[Problem]:
    entries: list[tuple[tuple, FaultChoice]] = []
    if spec.faults is not None:
        entries += [(("faults", "from", i), c) for i, c in enumerate(spec.faults.from_)]
    entries += [(("timeline", i), c) for i, c in enumerate(spec.timeline or [])]
    for loc, choice in entries:
        if choice.duration is not None and not choice.lasting:
            kinds = [k for k, v in FAULT_KINDS.items() if v.lasting]
            yield loc + ("for",), (f"{choice.kind} happens once and has no duration; `for` belongs to "
                                   f"faults that last ({', '.join(kinds)})")
        parts = [(loc, choice)] if choice.together is None else \
            [(loc + ("together", j), p) for j, p in enumerate(choice.together)]
        for where, fault in parts:
            yield from _fault(spec, where, fault)


def _fault(spec: Spec, loc: tuple, f: Fault) -> Iterator[Problem]:
    kind = f.kind
    if f.target is not None:
        why = _target_problem(spec, f.target)
        if why:
            yield loc + (kind,), why
    if kind == "toxic":
        yield from _toxic(spec, loc, f)
    else:
        for name in ("link", "attributes"):
            if getattr(f, name):
                yield loc + (name,), f"{name} belongs to toxics only (this fault is {kind})"
        if f.stream != "downstream":
            yield loc + ("stream",), f"stream belongs to toxics only (this fault is {kind})"
    if f.cut is not None and kind not in ("isolate", "split"):
        yield loc + ("cut",), f"cut belongs to isolate and split only (this fault is {kind})"
    if kind == "split":
        yield from _split(spec, loc, f)
    if f.clean and kind != "restart":
        yield loc + ("clean",), f"clean belongs to restart only (this fault is {kind})"


def _toxic(spec: Spec, loc: tuple, f: Fault) -> Iterator[Problem]:
    if not f.link:
        yield loc + ("toxic",), "a toxic needs a link, e.g. link: client->leader"
    else:
        why = link_problem(spec, f.link)
        if why:
            yield loc + ("link",), why
    known = TOXICS.get(f.toxic, {})
    if f.toxic == DOWN and f.attributes:
        yield loc + ("attributes",), "down has no attributes (it disables the links' proxies)"
        return
    for name, value in f.attributes.items():
        if name not in known:
            yield loc + ("attributes", name), (f"toxic {f.toxic} has no attribute {name!r}: it has "
                                               f"{', '.join(known)}{did_you_mean(name, known)}")
            continue
        attr = known[name]
        if not attr.low <= value.low <= value.high <= attr.high:
            yield loc + ("attributes", name), (f"{name} {value} is out of range ({attr.low}..{attr.high} "
                                               f"{attr.unit})")


def _split(spec: Spec, loc: tuple, f: Fault) -> Iterator[Problem]:
    a, b = f.sides()
    if set(a) & set(b):
        yield loc + ("split",), f"split {f.split}: the sides share node(s) {sorted(set(a) & set(b))}"
    bad = [n for n in (*a, *b) if not 1 <= n <= _nodes(spec)]
    if bad:
        yield loc + ("split",), f"split {f.split}: no such node {bad[0]} (the cluster has nodes 1..{_nodes(spec)})"
    if f.cut is not None and f.cut not in SPLIT_CUTS:
        yield loc + ("cut",), f"a split cuts with {', '.join(SPLIT_CUTS)}, not {f.cut}"


# --- reader actions -------------------------------------------------------------------------------
def _actions(spec: Spec) -> Iterator[Problem]:
    menus = [(("consumer",), spec.consumer, "consumer")]
    if spec.group is not None:
        menus.append((("group",), spec.group, "member"))
    for loc, menu, reader in menus:
        for i, name in enumerate(menu.actions):
            if reader not in ACTIONS[name].readers:
                fit = [n for n, a in ACTIONS.items() if reader in a.readers]
                yield loc + ("actions", i), (f"{name} is not an action of an assigned consumer: "
                                             f"they are {', '.join(fit)}")
        if "for" in _set(menu) and not any(ACTIONS[n].lasting for n in menu.actions):
            lasting = [n for n, a in ACTIONS.items() if a.lasting]
            yield loc + ("for",), f"`for` belongs to actions that last ({', '.join(lasting)}); none is in the menu"
    if spec.consumer.pick.high and spec.workload.consumers.high == 0:
        yield ("consumer", "pick"), "consumer actions need consumers (workload.consumers is 0)"


def _set(model) -> set[str]:
    """The fields a spec wrote (by their spec names: ``for``, not ``duration``)."""
    fields = type(model).model_fields
    return {fields[n].alias or n for n in model.model_fields_set}


# --- client and broker settings -----------------------------------------------------------------
def _clients(spec: Spec) -> Iterator[Problem]:
    try:
        from harness.vocab.config import config_problems
    except ImportError:          # the config vocabulary is being written
        config_problems = None
    sections = [(("producer", "config"), spec.producer.config, "producer"),
                (("consumer", "config"), spec.consumer.config, "consumer")]
    if spec.group is not None:
        sections.append((("group", "config"), spec.group.config, "consumer"))
    for loc, config, role in sections:
        for key, message in (config_problems(config, role) if config_problems else []):
            yield loc + (key,), message
    for i, node in enumerate(spec.producer.bootstrap or []):
        if not 1 <= int(node.split(":")[1]) <= spec.cluster.brokers:
            yield ("producer", "bootstrap", i), f"{node}: no such broker (brokers 1..{spec.cluster.brokers})"
    for i, node in enumerate(spec.consumer.bootstrap or []):
        if not 1 <= int(node.split(":")[1]) <= spec.cluster.brokers:
            yield ("consumer", "bootstrap", i), f"{node}: no such broker (brokers 1..{spec.cluster.brokers})"
    for key in spec.cluster.config:
        if reserved_broker_key(key):
            yield ("cluster", "config", key), f"{key} is kch's to set (listeners, roles, quorum, log dirs)"
