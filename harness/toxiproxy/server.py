"""A toxiproxy server process on loopback, owned by a :class:`~harness.procs.ProcessGroup`."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from harness.procs import ProcessGroup
from harness.provision import toxiproxy_bin
from harness.toxiproxy.client import ToxiproxyClient
from harness.wait import wait_until

# One OS thread: on 2 cores toxiproxy otherwise competes with the JVMs and the client
# (measured: produce through the proxy 55k -> 75-80k msg/s; see docs/performance.md).
GOMAXPROCS = 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ToxiproxyServer:
    """Start ``toxiproxy-server`` on 127.0.0.1 and hand out a client for its API."""

    def __init__(self, group: ProcessGroup, *, log_path: Path, port: int | None = None) -> None:
        self.group = group
        self.log_path = log_path
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.client = ToxiproxyClient("127.0.0.1", self.port)

    def start(self, *, timeout: float = 15.0) -> ToxiproxyClient:
        binary = toxiproxy_bin()
        env = dict(os.environ)
        env.setdefault("GOMAXPROCS", str(GOMAXPROCS))
        self.proc = self.group.spawn([str(binary), "-host", "127.0.0.1", "-port", str(self.port)],
                                     log_path=self.log_path, label="toxiproxy", env=env)

        def up() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"toxiproxy exited with {self.proc.returncode}; see {self.log_path}")
            return bool(self.client.version())

        wait_until(up, timeout=timeout, message=f"toxiproxy did not answer on 127.0.0.1:{self.port}")
        return self.client

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def stop(self) -> None:
        if self.proc is not None:
            self.group.stop(self.proc, timeout=5)
            self.proc = None
