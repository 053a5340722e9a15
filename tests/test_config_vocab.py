"""The client config vocabulary: the names each dialect knows, misspellings and one setting
given twice caught, ``default`` left to the client, and the translation between dialects."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import yaml

import harness.vocab.config as vocab_module
from harness.clients.needs import NoEquivalent, missing, needs, translate
from harness.spec.model import Spec
from harness.vocab import config_keys
from harness.vocab.config import (DEFAULT, DIALECTS, KCH_SETS, PRODUCER_DEFAULTS, ROLES, SCALED, SYNONYMS,
                                  accepted, config_problems, is_default, known, rename)

SPECS = Path(__file__).resolve().parents[1] / "specs"
SECTIONS = (("producer", "producer"), ("consumer", "consumer"), ("group", "consumer"))


def spec(**extra) -> Spec:
    return Spec.model_validate({"title": "t" * 5, "expect": {"duplicate": "forbidden"}, **extra})


def shipped_configs():
    """(spec file, section, role, config) of every config section in the shipped specs."""
    out = []
    for path in sorted(SPECS.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for section, role in SECTIONS:
            config = ((data or {}).get(section) or {}).get("config")
            if config:
                out.append((path.relative_to(SPECS).as_posix(), section, role, config))
    return out


# --- the key lists -----------------------------------------------------------------------------
def test_the_vocabulary_is_a_leaf():
    for module in (vocab_module, config_keys):
        tree = ast.parse(inspect.getsource(module))
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert all(not m.startswith("harness") or m.startswith("harness.vocab") for m in imported), imported


@pytest.mark.parametrize("dialect,role,keys", [
    ("librdkafka", "producer", ["acks", "request.required.acks", "message.timeout.ms", "delivery.timeout.ms",
                                "queue.buffering.max.ms", "linger.ms", "queue.buffering.max.messages",
                                "queue.buffering.max.kbytes", "batch.num.messages", "enable.idempotence",
                                "socket.timeout.ms", "retries", "transactional.id", "client.id"]),
    ("librdkafka", "consumer", ["group.id", "group.instance.id", "session.timeout.ms", "heartbeat.interval.ms",
                                "partition.assignment.strategy", "group.protocol", "fetch.wait.max.ms",
                                "enable.partition.eof", "auto.offset.reset", "max.poll.interval.ms",
                                "isolation.level", "socket.timeout.ms"]),
    ("java", "producer", ["acks", "delivery.timeout.ms", "request.timeout.ms", "linger.ms", "buffer.memory",
                          "enable.idempotence", "max.block.ms", "batch.size", "retries", "transactional.id",
                          "max.in.flight.requests.per.connection", "key.serializer"]),
    ("java", "consumer", ["group.id", "group.instance.id", "session.timeout.ms", "heartbeat.interval.ms",
                          "partition.assignment.strategy", "group.protocol", "group.remote.assignor",
                          "fetch.max.wait.ms", "max.poll.records", "default.api.timeout.ms",
                          "request.timeout.ms", "key.deserializer"]),
])
def test_each_dialect_knows_its_own_keys(dialect, role, keys):
    for key in keys:
        assert key in known(dialect, role), key
        assert config_problems({key: 1}, role) == [], key


def test_roles_keep_their_own_keys():
    assert "group.id" not in known("java", "producer") and "group.id" not in known("librdkafka", "producer")
    assert "max.block.ms" not in known("librdkafka", "producer")        # Java only
    assert "enable.partition.eof" not in known("java", "consumer")      # librdkafka only
    assert "error_cb" not in known("librdkafka", "producer")            # set through the C API only
    for dialect in DIALECTS:
        for role in ROLES:
            assert len(known(dialect, role)) > 100, (dialect, role)
    with pytest.raises(ValueError, match="role"):
        known("java", "admin")
    with pytest.raises(ValueError, match="dialect"):
        known("kafka-python", "producer")


def test_every_name_kch_uses_is_known():
    for role in ROLES:
        assert KCH_SETS[role] <= known("librdkafka", role) | known("java", role), role
        assert config_problems(dict.fromkeys(KCH_SETS[role], "x"), role) == []
    for rdk, java in SYNONYMS:
        assert rdk in known("librdkafka", "producer") | known("librdkafka", "consumer")
        assert java in known("java", "producer") | known("java", "consumer")
    for dialect, scaled in SCALED.items():
        for key, (name, _) in scaled.items():
            assert name in known(dialect, "producer") and key in accepted("producer")
    assert set(PRODUCER_DEFAULTS) <= known("java", "producer") & known("librdkafka", "producer")


@pytest.mark.parametrize("where,section,role,config", shipped_configs(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_key_in_the_shipped_specs_is_known(where, section, role, config):
    assert config_problems(config, role) == []


def test_the_shipped_specs_have_configs():
    assert {s for _, s, _, _ in shipped_configs()} == {"producer", "consumer", "group"}


# --- problems ----------------------------------------------------------------------------------
def test_a_misspelled_key_is_rejected_with_a_did_you_mean():
    problems = config_problems({"acks": "all", "enable.idempotency": True}, "producer")
    assert problems == [("enable.idempotency",
                         "unknown setting 'enable.idempotency' (neither librdkafka nor the Java client knows it "
                         "for a producer); did you mean 'enable.idempotence'?")]
    [(key, msg)] = config_problems({"sesion.timeout.ms": 6000}, "consumer")
    assert key == "sesion.timeout.ms" and "for a consumer" in msg and "did you mean 'session.timeout.ms'?" in msg
    [(_, msg)] = config_problems({"telepathy": 1}, "producer")
    assert "unknown setting 'telepathy'" in msg and "did you mean" not in msg


def test_a_key_of_the_other_role_is_named_as_such():
    [(key, msg)] = config_problems({"group.instance.id": "m1"}, "producer")
    assert key == "group.instance.id" and "it is a consumer setting" in msg
    [(_, msg)] = config_problems({"max.block.ms": 1000}, "consumer")
    assert "it is a producer setting" in msg


@pytest.mark.parametrize("first,second", [*SYNONYMS, ("buffer.memory", "queue.buffering.max.kbytes"),
                                          ("acks", "request.required.acks")])
def test_one_setting_under_two_names_is_rejected(first, second):
    role = "consumer" if "fetch" in first else "producer"
    [(key, msg)] = config_problems({first: 1, second: 2}, role)
    assert key == second and msg.startswith(f"{first!r} and {second!r} are one setting (")
    assert msg.endswith("); give it once")
    assert config_problems({first: 1}, role) == [] and config_problems({second: 2}, role) == []


def test_the_synonym_message_names_the_dialects():
    assert config_problems({"socket.timeout.ms": 1, "request.timeout.ms": 2}, "producer") == [
        ("request.timeout.ms", "'socket.timeout.ms' and 'request.timeout.ms' are one setting "
                               "(librdkafka and Java names); give it once")]


def test_default_is_accepted_for_any_known_key():
    assert is_default(DEFAULT) and is_default("Default") and not is_default("false") and not is_default(0)
    assert config_problems({"enable.idempotence": DEFAULT, "acks": DEFAULT, "linger.ms": DEFAULT}, "producer") == []


# --- translation -------------------------------------------------------------------------------
def test_default_is_left_out_by_translate():
    for dialect in DIALECTS:
        out = translate({"enable.idempotence": "default", "message.timeout.ms": 30000}, dialect, producer=True)
        assert "enable.idempotence" not in out and out["acks"] == "all"
        assert translate({"acks": "default", "enable.idempotence": "default"}, dialect, producer=True) == {}
        # as the group runner does: kch's own value, then the spec's
        group_config = {"session.timeout.ms": "default"}
        assert translate({"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000, **group_config},
                         dialect) == {"heartbeat.interval.ms": "1000"}


def test_idempotence_is_not_needed_when_left_at_the_default():
    assert "idempotence" not in [c for c, _ in needs(spec(producer={"config": {"enable.idempotence": "default"}}))]
    assert "idempotence" in [c for c, _ in needs(spec(producer={"config": {"enable.idempotence": "true"}}))]
    s = spec(producer={"config": {"enable.idempotence": "default", "acks": "default"}})
    assert missing(s, {"assign"}, "java") is None and missing(s, {"assign"}, "librdkafka") is None


def test_translate_keeps_the_producer_defaults_explicit():
    for dialect in DIALECTS:
        assert translate({}, dialect, producer=True) == PRODUCER_DEFAULTS
        assert translate({"enable.idempotence": True}, dialect, producer=True) == {
            "acks": "all", "enable.idempotence": "true"}
        assert translate({}, dialect) == {}


def test_translate_renames_both_ways_and_scales():
    for rdk, java in SYNONYMS:
        assert rename(rdk, "java") == java and rename(java, "librdkafka") == rdk
        assert rename(rdk, "librdkafka") == rdk and rename(java, "java") == java
    assert translate({"fetch.wait.max.ms": 100, "socket.timeout.ms": 900}, "java") == {
        "fetch.max.wait.ms": "100", "request.timeout.ms": "900"}
    assert translate({"fetch.max.wait.ms": 100, "request.timeout.ms": 900}, "librdkafka") == {
        "fetch.wait.max.ms": "100", "socket.timeout.ms": "900"}
    assert translate({"request.required.acks": -1, "message.send.max.retries": 3}, "java") == {
        "acks": "-1", "retries": "3"}
    assert translate({"buffer.memory": 100}, "librdkafka") == {"queue.buffering.max.kbytes": "1"}
    assert translate({"batch.num.messages": 10}, "java") == {}
    assert translate({"batch.num.messages": 10}, "librdkafka") == {"batch.num.messages": "10"}


def test_a_key_only_the_other_dialect_knows_has_no_equivalent():
    with pytest.raises(NoEquivalent, match=r"max\.block\.ms has no librdkafka equivalent \(only the Java client"):
        translate({"max.block.ms": 1000}, "librdkafka", producer=True)
    with pytest.raises(NoEquivalent, match=r"enable\.partition\.eof has no java equivalent \(only librdkafka"):
        translate({"enable.partition.eof": True}, "java")
    s = spec(consumer={"config": {"default.api.timeout.ms": 10000}})
    assert missing(s, {"assign"}, "java") is None
    assert missing(s, {"assign"}, "librdkafka").startswith(
        "consumer.config: default.api.timeout.ms has no librdkafka equivalent")
    # a name neither dialect knows is the spec check's to report; translate passes it on
    assert translate({"kch.unknown": 1}, "java") == {"kch.unknown": "1"}


@pytest.mark.parametrize("where,section,role,config", shipped_configs(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_shipped_config_translates_or_names_its_missing_equivalent(where, section, role, config):
    for dialect in DIALECTS:
        try:
            out = translate(config, dialect, producer=role == "producer")
        except NoEquivalent as exc:
            assert str(exc).startswith(tuple(vocab_module.UNSUPPORTED[dialect])), exc
            continue
        assert set(out) <= known(dialect, role), (dialect, set(out) - known(dialect, role))
