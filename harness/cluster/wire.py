"""A few Kafka requests spoken directly, for observing a cluster without a client library.

The harness observes topology (leaders, ISRs, fenced brokers, the active controller) over each
node's *real* listener ports, not through toxiproxy, so that observation keeps working while
faults cut the links clients use. Only the flexible-version requests below are needed; each
is sent on a fresh connection and parsed just far enough for the fields we use.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

API_METADATA, API_DESCRIBE_QUORUM, API_DESCRIBE_CLUSTER = 3, 55, 60
NOT_LEADER_OR_FOLLOWER = 6


class WireError(OSError):
    """A request could not be sent, answered, or parsed."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise WireError("short Kafka response")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int8(self) -> int: return struct.unpack(">b", self.take(1))[0]
    def int16(self) -> int: return struct.unpack(">h", self.take(2))[0]
    def int32(self) -> int: return struct.unpack(">i", self.take(4))[0]
    def int64(self) -> int: return struct.unpack(">q", self.take(8))[0]

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def compact_str(self) -> str | None:
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def compact_len(self) -> int:
        return max(self.uvarint() - 1, 0)

    def int32_array(self) -> list[int]:
        return [self.int32() for _ in range(self.compact_len())]

    def tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _compact_str(text: str) -> bytes:
    raw = text.encode()
    return _uvarint(len(raw) + 1) + raw


def _request(host: str, port: int, api_key: int, version: int, body: bytes, *,
             timeout: float) -> _Reader:
    client_id = b"kch-observer"
    header = struct.pack(">hhih", api_key, version, 1, len(client_id)) + client_id + b"\x00"
    payload = header + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(payload)) + payload)
            size = struct.unpack(">i", _recv(sock, 4))[0]
            reader = _Reader(_recv(sock, size))
    except OSError as exc:
        raise WireError(f"{host}:{port}: {exc}") from exc
    reader.int32()  # correlation id
    reader.tags()
    return reader


def _recv(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise WireError("connection closed mid-response")
        chunks += chunk
    return bytes(chunks)


@dataclass(frozen=True)
class Quorum:
    leader_id: int
    leader_epoch: int
    high_watermark: int


def describe_quorum(host: str, port: int, *, timeout: float = 2.0) -> Quorum | None:
    """Ask a controller (its controller listener) for the KRaft leader; None if it is not the leader."""
    body = (_uvarint(2) + _compact_str("__cluster_metadata") + _uvarint(2) + struct.pack(">i", 0)
            + b"\x00" + b"\x00" + b"\x00")
    r = _request(host, port, API_DESCRIBE_QUORUM, 0, body, timeout=timeout)
    if r.int16() != 0:
        return None
    r.compact_len()
    r.compact_str()
    r.compact_len()
    r.int32()  # partition index
    if r.int16() != 0:
        return None
    return Quorum(leader_id=r.int32(), leader_epoch=r.int32(), high_watermark=r.int64())


@dataclass(frozen=True)
class BrokerState:
    node_id: int
    fenced: bool


def describe_brokers(host: str, port: int, *, timeout: float = 2.0) -> list[BrokerState]:
    """Registered brokers and whether each is fenced, as the broker at host:port knows them."""
    body = b"\x00" + struct.pack(">b", 1) + b"\x01" + b"\x00"  # no auth ops; brokers; fenced too
    r = _request(host, port, API_DESCRIBE_CLUSTER, 2, body, timeout=timeout)
    r.int32()  # throttle
    error = r.int16()
    message = r.compact_str()
    if error:
        raise WireError(f"DescribeCluster error {error}: {message}")
    r.int8()
    r.compact_str()
    r.int32()  # controller id
    brokers = []
    for _ in range(r.compact_len()):
        node_id = r.int32()
        r.compact_str()
        r.int32()
        r.compact_str()
        fenced = bool(r.int8())
        r.tags()
        brokers.append(BrokerState(node_id, fenced))
    return brokers


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    leader: int
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    error: int = 0


@dataclass
class Metadata:
    brokers: dict[int, tuple[str, int]] = field(default_factory=dict)
    partitions: dict[tuple[str, int], PartitionState] = field(default_factory=dict)


def metadata(host: str, port: int, topics: list[str] | None = None, *,
             timeout: float = 2.0) -> Metadata:
    """Metadata (v12) from one broker: live brokers and every partition's leader, epoch and ISR."""
    if topics is None:
        body = b"\x00"
    else:
        body = _uvarint(len(topics) + 1) + b"".join(
            b"\x00" * 16 + _compact_str(t) + b"\x00" for t in topics)
    body += b"\x00\x00\x00"  # no auto-create, no authorized ops, no tags
    r = _request(host, port, API_METADATA, 12, body, timeout=timeout)
    out = Metadata()
    r.int32()
    for _ in range(r.compact_len()):
        node_id = r.int32()
        bhost = r.compact_str() or ""
        bport = r.int32()
        r.compact_str()
        r.tags()
        out.brokers[node_id] = (bhost, bport)
    r.compact_str()
    r.int32()
    for _ in range(r.compact_len()):
        r.int16()
        name = r.compact_str() or ""
        r.take(16)
        r.int8()
        for _ in range(r.compact_len()):
            error = r.int16()
            index = r.int32()
            leader = r.int32()
            epoch = r.int32()
            replicas = tuple(r.int32_array())
            isr = tuple(r.int32_array())
            r.int32_array()
            r.tags()
            out.partitions[(name, index)] = PartitionState(name, index, leader, epoch, replicas, isr, error)
        r.int32()
        r.tags()
    return out
