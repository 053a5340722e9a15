"""ToxiproxyClient against a real toxiproxy server and a real TCP echo upstream (no mocks)."""

from __future__ import annotations

import re
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from harness.errors import ClusterError, FaultError, KchError, UsageError
from harness.provision import toxiproxy_bin
from harness.toxiproxy import TOXIC_TYPES, Proxy, Toxic, ToxiproxyClient

PAYLOAD = b"0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data)
        except OSError:  # toxics such as reset_peer reset the upstream side too
            pass


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToxiproxyClient]:
    port = _free_port()
    log = tmp_path_factory.mktemp("toxiproxy") / "toxiproxy.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(toxiproxy_bin()), "-host", "127.0.0.1", "-port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        api = ToxiproxyClient("127.0.0.1", port, timeout=2.0)
        deadline = time.monotonic() + 10
        while True:
            try:
                api.version()
                break
            except ClusterError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"toxiproxy did not come up: {log.read_text()[-2000:]}")
                time.sleep(0.05)
        yield api
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def proxy(client: ToxiproxyClient, echo: str, request: pytest.FixtureRequest) -> Iterator[Proxy]:
    name = re.sub(r"\W", "_", request.node.name)
    created = client.create_proxy(name, listen="127.0.0.1:0", upstream=echo)
    yield created
    try:
        client.delete_proxy(name)
    except FaultError:
        pass


def _connect(p: Proxy, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection(p.address, timeout=timeout)


def _round_trip(p: Proxy, payload: bytes = PAYLOAD) -> bytes:
    """Send payload through the proxy and read until it is all echoed back or EOF."""
    with _connect(p) as s:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload) and (data := s.recv(65536)):
            got += data
        return got


@pytest.fixture
def dead_client() -> ToxiproxyClient:
    """A client whose API port has nothing listening: any HTTP call is a ClusterError."""
    return ToxiproxyClient("127.0.0.1", _free_port(), timeout=1.0)


def test_version_is_a_plain_string(client: ToxiproxyClient) -> None:
    version = client.version()
    assert version and isinstance(version, str)
    assert "{" not in version  # the JSON answer is unpacked


def test_create_proxy_is_listed_with_resolved_port(client: ToxiproxyClient, proxy: Proxy, echo: str) -> None:
    assert proxy.upstream == echo and proxy.enabled
    assert proxy.address[0] == "127.0.0.1" and proxy.address[1] != 0
    assert client.proxies()[proxy.name] == proxy


def test_data_passes_through(proxy: Proxy) -> None:
    assert _round_trip(proxy, PAYLOAD * 1000) == PAYLOAD * 1000


def test_duplicate_proxy_is_fault_error(client: ToxiproxyClient, proxy: Proxy, echo: str) -> None:
    with pytest.raises(FaultError, match=r"POST /proxies failed with HTTP 409: proxy already exists"):
        client.create_proxy(proxy.name, listen="127.0.0.1:0", upstream=echo)


def test_latency_delays_round_trip(client: ToxiproxyClient, proxy: Proxy) -> None:
    toxic = client.add_toxic(proxy, "latency", latency=300)
    assert toxic == Toxic(name="latency_downstream", type="latency", stream="downstream",
                          toxicity=1.0, attributes={"latency": 300, "jitter": 0})
    assert client.toxics(proxy) == [toxic]
    start = time.monotonic()
    assert _round_trip(proxy) == PAYLOAD
    assert time.monotonic() - start >= 0.3


def test_remove_toxic(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy, "timeout", name="blackhole", stream="upstream", timeout=0)
    client.remove_toxic(proxy, "blackhole")
    assert client.toxics(proxy) == []
    assert _round_trip(proxy) == PAYLOAD
    with pytest.raises(FaultError, match=r"HTTP 404: toxic not found"):
        client.remove_toxic(proxy, "blackhole")


def test_set_enabled_false_refuses_then_true_restores(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.set_enabled(proxy.name, False)
    assert client.proxies()[proxy.name].enabled is False
    with pytest.raises(ConnectionRefusedError):
        _connect(proxy).close()
    client.set_enabled(proxy.name, True)
    assert client.proxies()[proxy.name] == proxy  # same listen port as before
    assert _round_trip(proxy) == PAYLOAD


def test_timeout_zero_blackholes(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy, "timeout", timeout=0)
    with _connect(proxy, timeout=0.5) as s:
        s.sendall(PAYLOAD)
        with pytest.raises(TimeoutError):
            s.recv(100)


def test_reset_peer_resets_connection(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy, "reset_peer", timeout=0)
    with _connect(proxy) as s:
        s.sendall(PAYLOAD)
        with pytest.raises(ConnectionResetError):
            s.recv(100)


def test_limit_data_closes_after_n_bytes(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy, "limit_data", bytes=5)
    with _connect(proxy) as s:
        s.sendall(PAYLOAD)
        got = b""
        while data := s.recv(100):
            got += data
    assert got == PAYLOAD[:5]


def test_bandwidth_zero_stalls(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy, "bandwidth", stream="upstream", rate=0)
    with _connect(proxy, timeout=0.5) as s:
        s.sendall(PAYLOAD)
        with pytest.raises(TimeoutError):
            s.recv(100)


def test_reset_removes_toxics_and_enables(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy, "latency", latency=1000)
    client.add_toxic(proxy, "limit_data", stream="upstream", bytes=1)
    client.set_enabled(proxy.name, False)
    client.reset()
    assert client.toxics(proxy) == []
    assert client.proxies()[proxy.name].enabled is True
    assert _round_trip(proxy) == PAYLOAD  # limit_data would have cut it to one byte


def test_populate_creates_several(client: ToxiproxyClient, echo: str) -> None:
    wanted = [Proxy("pop_a", "127.0.0.1:0", echo), Proxy("pop_b", "127.0.0.1:0", echo),
              Proxy("pop_c", "127.0.0.1:0", echo, enabled=False)]
    try:
        made = client.populate(wanted)
        assert [(p.name, p.upstream, p.enabled) for p in made] == [
            ("pop_a", echo, True), ("pop_b", echo, True), ("pop_c", echo, False)]
        listed = client.proxies()
        assert {"pop_a", "pop_b", "pop_c"} <= listed.keys()
        assert listed["pop_a"].address[1] != listed["pop_b"].address[1]
        assert _round_trip(listed["pop_a"]) == PAYLOAD and _round_trip(listed["pop_b"]) == PAYLOAD
    finally:
        for p in wanted:
            try:
                client.delete_proxy(p.name)
            except FaultError:
                pass


@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    (("jitterbug",), {}, r"unknown toxic type 'jitterbug'.*bandwidth, latency, limit_data, reset_peer"),
    (("latency",), {"stream": "sideways"}, r"bad stream 'sideways'.*upstream, downstream"),
    (("latency",), {"lantency": 100}, r"'latency' has no attribute 'lantency': allowed are jitter, latency"),
    (("slicer",), {"bytes": 1}, r"'slicer' has no attribute 'bytes': allowed are average_size, delay, size_variation"),
    (("latency",), {"toxicity": 1.5, "latency": 1}, r"bad toxicity 1.5"),
    (("bandwidth",), {"rate": -1}, r"'rate' of toxic 'bandwidth' must be a non-negative integer"),
])
def test_bad_toxic_is_usage_error_before_any_request(dead_client: ToxiproxyClient, args: tuple,
                                                      kwargs: dict, expected: str) -> None:
    # dead_client would raise ClusterError on any HTTP call, so UsageError proves none was made.
    with pytest.raises(UsageError, match=expected) as info:
        dead_client.add_toxic("any", *args, **kwargs)
    assert info.value.exit_code == 2


def test_toxic_types_table() -> None:
    assert TOXIC_TYPES["slicer"] == frozenset({"average_size", "size_variation", "delay"})
    assert set(TOXIC_TYPES) == {"latency", "bandwidth", "slow_close", "timeout", "reset_peer",
                                "slicer", "limit_data"}


def test_delete_unknown_proxy_is_fault_error(client: ToxiproxyClient) -> None:
    with pytest.raises(FaultError, match=r"DELETE /proxies/no_such_proxy failed with HTTP 404: proxy not found"):
        client.delete_proxy("no_such_proxy")


def test_unreachable_api_is_cluster_error(dead_client: ToxiproxyClient) -> None:
    with pytest.raises(ClusterError, match=rf"toxiproxy API at 127\.0\.0\.1:{dead_client.port} unreachable: ") as info:
        dead_client.proxies()
    assert isinstance(info.value, KchError) and info.value.exit_code == 3
