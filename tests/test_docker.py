"""The docker provider against a real engine: containers, true partitions, container faults,
link toxics that outlive a node restart, and reaping after a SIGKILLed runner.

Needs a running Docker engine and the kch images (``make test`` sees to both); it does not
skip itself when they are missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from harness.cluster.engine import LABEL_CLUSTER, LABEL_OWNER, engine, reap_containers
from harness.errors import FaultError, UsageError
from harness.faults import Isolate, Kill, Nemesis, Pause, Restart, Split, Toxic
from harness.history import History
from harness.wait import wait_until

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def cluster():
    from harness.cluster.docker import DockerCluster

    with DockerCluster(brokers=3, images="kch", broker_config=BROKER_CONFIG) as c:
        yield c


BROKER_CONFIG = {"log.retention.bytes": 987654321, "log.flush.interval.messages": 100000}


@pytest.fixture
def nemesis(cluster):
    n = Nemesis(cluster, History())
    yield n
    n.heal_all(timeout=120)


def _topic(cluster, name: str) -> str:
    cluster.create_topic(name, partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
    return name


def _produce(cluster, topic: str, n: int = 20, timeout: float = 20.0) -> int:
    from confluent_kafka import Producer

    acked = []
    p = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "message.timeout.ms": int(timeout * 1000)})
    for i in range(n):
        p.produce(topic, str(i).encode(), on_delivery=lambda err, msg: acked.append(err is None and msg.offset()))
    p.flush(timeout + 5)
    return sum(1 for a in acked if a is not False)


def test_containers_have_stable_names_labels_and_addresses(cluster):
    client = engine()
    mine = client.containers.list(filters={"label": f"{LABEL_CLUSTER}={cluster.name}"})
    names = sorted(c.name for c in mine)
    assert names == sorted([f"kch-{cluster.name}-proxy"] + [f"kch-{cluster.name}-node-{i}" for i in (1, 2, 3)])
    for c in mine:
        assert c.labels[LABEL_OWNER].startswith(f"{os.getpid()}:")
        net = c.attrs["NetworkSettings"]["Networks"][cluster.network.name]
        if "node" in c.name:
            node = int(c.name.rsplit("-", 1)[1])
            assert net["IPAddress"] == cluster.addresses[node]
            assert f"kch-node-{node}" in net["Aliases"]
    assert cluster.healthy()
    assert set(cluster.status()["nodes"][0]) >= {"container", "address", "client_address"}


def test_broker_config_reaches_every_broker(cluster):
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    for node in cluster.layout.brokers:
        resource = ConfigResource(ConfigResource.Type.BROKER, str(node.id))
        entries = admin.describe_configs([resource], request_timeout=10)[resource].result(timeout=20)
        assert entries["log.retention.bytes"].value == "987654321"
        assert entries["log.flush.interval.messages"].value == "100000"
    assert cluster.status()["broker_config"] == {k: str(v) for k, v in BROKER_CONFIG.items()}


def test_follower_targets_kill_an_in_sync_non_leader(cluster, nemesis):
    topic = _topic(cluster, "followed")
    leader = cluster.leader(topic, 0)
    followers = cluster.followers(topic, 0)
    assert followers == sorted({1, 2, 3} - {leader})
    nemesis.apply(Kill(f"follower:{topic}/0#1"))
    assert cluster.state(followers[1]) == "exited"
    assert cluster.leader(topic, 0) == leader


def test_writes_replicate_through_proxied_links(cluster):
    topic = _topic(cluster, "replicated")
    assert _produce(cluster, topic) == 20
    assert set(cluster.isr(topic, 0)) == {1, 2, 3}


def test_isolate_with_iptables_drop_moves_leadership_and_heals(cluster, nemesis):
    topic = _topic(cluster, "dropped")
    old = cluster.leader(topic, 0)
    active = nemesis.apply(Isolate(f"node:{old}", cut="drop"))
    new = nemesis.wait_for_new_leader(topic, 0, old=old, timeout=30)
    assert new != old
    wait_until(lambda: old not in cluster.isr(topic, 0), timeout=30, message="isolated node stayed in the ISR")
    nemesis.heal(active)
    cluster.wait_healthy(timeout=90)
    assert _produce(cluster, topic) == 20


def test_disconnect_takes_a_node_off_the_network_and_back_at_the_same_address(cluster, nemesis):
    victim = 3
    active = nemesis.apply(Isolate(f"node:{victim}", cut="disconnect"))
    container = cluster.containers[victim]
    container.reload()
    assert cluster.network.name not in container.attrs["NetworkSettings"]["Networks"]
    wait_until(lambda: victim not in cluster.unfenced_brokers(), timeout=30, message="disconnected node not fenced")
    nemesis.heal(active)
    container.reload()
    assert container.attrs["NetworkSettings"]["Networks"][cluster.network.name]["IPAddress"] == cluster.addresses[victim]
    cluster.wait_healthy(timeout=90)


def test_split_drop_fences_the_minority(cluster, nemesis):
    nemesis.apply(Split((1,), (2, 3), cut="drop"))
    wait_until(lambda: 1 not in cluster.unfenced_brokers(), timeout=30, message="minority node 1 not fenced")
    assert {2, 3} <= cluster.unfenced_brokers()


def test_pause_kill_and_restart_act_on_containers(cluster, nemesis):
    nemesis.apply(Pause("node:2"))
    assert cluster.state(2) == "paused"
    nemesis.heal_all(timeout=90)
    assert cluster.state(2) == "running"
    nemesis.apply(Kill("node:2"))
    assert cluster.state(2) == "exited"
    nemesis.apply(Restart("node:3", clean=True))
    assert cluster.is_running(3)
    nemesis.heal_all(timeout=120)
    assert cluster.healthy()


def test_a_link_toxic_outlives_a_restart_of_its_node(cluster, nemesis):
    nemesis.apply(Toxic("latency", "node:2->node:1", {"latency": 50}))
    nemesis.apply(Kill("node:2"))
    cluster.start_node(2)
    own = cluster.toxiproxy.servers[2]
    names = {t.name for t in own.toxics("replication-2-to-1")}
    assert names and all("latency" in n for n in names)


def test_true_cuts_are_refused_on_the_local_provider():
    from harness.cluster import LocalCluster
    from harness.cluster.layout import plan_layout

    local = LocalCluster(brokers=1)           # never started: the refusal comes first
    local.layout = plan_layout(brokers=1, ports=iter(range(20000, 20010)))
    with pytest.raises(FaultError, match="needs --cluster docker"):
        Nemesis(local, History()).apply(Isolate("node:1", cut="drop"))
    with pytest.raises(UsageError, match="clients=False"):
        Isolate("node:1", cut="disconnect", clients=False)


RUNNER = textwrap.dedent("""
    import sys, time
    from harness.cluster.docker import DockerCluster
    c = DockerCluster(brokers=1, name=sys.argv[1], images="kch")
    c.start()
    print("up", flush=True)
    time.sleep(600)
""")


def test_a_sigkilled_runner_leaves_nothing_the_next_start_does_not_reap():
    name = f"orphan-{int(time.time())}"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, name], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    client = engine()
    left = client.containers.list(all=True, filters={"label": f"{LABEL_CLUSTER}={name}"})
    assert len(left) == 2                      # the node and the client-link proxy
    reaped = reap_containers()
    assert any(name in r for r in reaped)
    assert not client.containers.list(all=True, filters={"label": f"{LABEL_CLUSTER}={name}"})
    assert not client.networks.list(filters={"label": f"{LABEL_CLUSTER}={name}"})


def test_cluster_json_describes_the_docker_cluster(cluster):
    data = json.loads((cluster.workdir / "cluster.json").read_text())
    assert data["provider"] == "docker"
    assert data["bootstrap_servers"] == cluster.bootstrap
    assert {l["server"] for l in data["links"]} == {"clients", "node-1", "node-2", "node-3"}


def _kch(*args, env=None):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_images_list_names_the_built_images():
    res = _kch("images", "list", "--images", "kch")
    assert res.returncode == 0, res.stderr
    assert "kch/kafka:4.3.1" in res.stdout and "kch/toxiproxy:2.12.0" in res.stdout


def test_cluster_up_status_down_on_docker(tmp_path):
    env = {"KCH_STATE_DIR": str(tmp_path)}
    name = f"bydocker{int(time.time())}"
    up = _kch("cluster", "up", "--cluster", "docker", "--images", "kch", "--brokers", "1", "--name", name,
              "--json", env=env)
    assert up.returncode == 0, up.stderr
    status = json.loads(_kch("cluster", "status", "--name", name, "--json", env=env).stdout)
    assert status["provider"] == "docker" and status["nodes"][0]["container"].endswith("node-1")
    label = f"{LABEL_CLUSTER}=kept-{name}"
    assert len(engine().containers.list(filters={"label": label})) == 2   # it outlived the command
    again = _kch("cluster", "up", "--cluster", "docker", "--name", name, env=env)
    assert again.returncode == 2 and "already up" in again.stderr
    down = _kch("cluster", "down", "--name", name, env=env)
    assert down.returncode == 0 and "stopped" in down.stdout, down.stderr
    assert not engine().containers.list(all=True, filters={"label": label})
    assert not engine().networks.list(filters={"label": label})


def test_engine_errors_become_one_line_kch_errors():
    import docker

    from harness.cluster.engine import engine_errors
    from harness.errors import ClusterError

    @engine_errors()
    def pause_node():
        raise docker.errors.APIError("409 Conflict: container is not running\nmore detail")

    with pytest.raises(ClusterError, match=r"^docker: pause node failed: 409 Conflict: container is not running$"):
        pause_node()
