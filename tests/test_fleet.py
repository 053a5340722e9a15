"""ToxiproxyFleet: several servers behind one client's interface, with desired state that a
server coming back (its node restarted or unpaused) receives again. Fake servers, no network."""

from __future__ import annotations

import pytest

from harness.errors import FaultError
from harness.toxiproxy.client import Proxy
from harness.toxiproxy.fleet import ToxiproxyFleet


class FakeServer:
    def __init__(self) -> None:
        self.toxics: dict[str, dict[str, dict]] = {}
        self.disabled: set[str] = set()
        self.proxies: list[str] = []

    def populate(self, proxies):
        self.proxies = [p.name for p in proxies]
        for name in self.proxies:
            self.toxics.setdefault(name, {})

    def reset(self):
        for t in self.toxics.values():
            t.clear()
        self.disabled.clear()

    def add_toxic(self, proxy, type, *, name, stream, toxicity, **attributes):
        self.toxics[proxy][name] = {"type": type, "stream": stream, **attributes}

    def remove_toxic(self, proxy, name):
        if self.toxics[proxy].pop(name, None) is None:
            raise FaultError("toxiproxy DELETE failed with HTTP 404: toxic not found")

    def set_enabled(self, proxy, enabled):
        (self.disabled.discard if enabled else self.disabled.add)(proxy)

    def restart(self):                      # a node's container restarted: an empty server
        self.__init__()


@pytest.fixture
def fleet():
    servers = {"clients": FakeServer(), 1: FakeServer(), 2: FakeServer()}
    held = {"clients": [Proxy("client-client-to-1", "0.0.0.0:9001", "kch-node-1:9092")],
            1: [Proxy("replication-1-to-2", "127.1.1.2:9093", "kch-node-2:9093")],
            2: [Proxy("replication-2-to-1", "127.1.2.1:9093", "kch-node-1:9093")]}
    live = {"clients": True, 1: True, 2: True}
    f = ToxiproxyFleet(servers, held, lambda key: live[key])
    for key in servers:
        f.sync(key)
    return f, servers, live


def test_calls_go_to_the_server_that_holds_the_proxy(fleet):
    f, servers, _ = fleet
    f.add_toxic("replication-2-to-1", "latency", name="slow", latency=50)
    assert servers[2].toxics["replication-2-to-1"]["slow"]["latency"] == 50
    assert servers[1].toxics["replication-1-to-2"] == {}
    f.set_enabled("client-client-to-1", False)
    assert servers["clients"].disabled == {"client-client-to-1"}


def test_a_toxic_outlives_a_restart_of_its_server(fleet):
    f, servers, _ = fleet
    f.add_toxic("replication-1-to-2", "timeout", name="cut", stream="upstream", timeout=0)
    f.set_enabled("replication-1-to-2", False)
    servers[1].restart()
    f.sync(1)
    assert servers[1].toxics["replication-1-to-2"]["cut"]["stream"] == "upstream"
    assert servers[1].disabled == {"replication-1-to-2"}


def test_changes_while_a_server_is_down_apply_when_it_is_back(fleet):
    f, servers, live = fleet
    f.add_toxic("replication-1-to-2", "latency", name="early", latency=10)
    live[1] = False
    f.add_toxic("replication-1-to-2", "latency", name="late", latency=20)
    f.remove_toxic("replication-1-to-2", "early")
    assert set(servers[1].toxics["replication-1-to-2"]) == {"early"}     # untouched while down
    live[1] = True
    f.sync(1)
    assert set(servers[1].toxics["replication-1-to-2"]) == {"late"}


def test_reset_clears_desired_state_and_unknown_names_are_404(fleet):
    f, servers, live = fleet
    f.add_toxic("replication-2-to-1", "latency", name="x", latency=1)
    live[2] = False
    f.reset()
    live[2] = True
    f.sync(2)
    assert servers[2].toxics["replication-2-to-1"] == {}
    with pytest.raises(FaultError, match="HTTP 404"):
        f.remove_toxic("replication-2-to-1", "x")
    with pytest.raises(FaultError, match="HTTP 404"):
        f.add_toxic("no-such-proxy", "latency", latency=1)
    f.add_toxic("replication-2-to-1", "latency", name="y", latency=1)
    with pytest.raises(FaultError, match="HTTP 409"):
        f.add_toxic("replication-2-to-1", "latency", name="y", latency=1)
