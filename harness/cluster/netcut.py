"""True partitions on the docker provider: iptables rules inside the nodes' network namespaces.

A cut between A and B drops every packet between their addresses, both directions, written
in both namespaces (so it holds while either side restarts; a restarted node comes back in a
fresh namespace without the rules, as a machine that rebooted would). Rules run with
``iptables`` inside the node's container (the kch image has it, the container has
NET_ADMIN); where the image lacks it, or the node is paused (nothing runs in a frozen container), a
throwaway container of the kch base image joins the node's namespace to run it.
"""

from __future__ import annotations

from typing import Callable, Iterable

from harness.cluster.engine import engine_errors
from harness.errors import FaultError


class NetCuts:
    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.dirty: set[int] = set()      # nodes that may hold rules of ours

    def flush(self) -> None:
        """Remove every rule of ours from every running node (kch is alone in these chains)."""
        for key in sorted(self.dirty):
            if self.cluster.is_running(key):
                for chain in ("INPUT", "OUTPUT"):
                    self._iptables(key, ["-F", chain])
        self.dirty.clear()

    @engine_errors(FaultError)
    def _iptables(self, key, args: list[str]) -> None:
        import docker

        c = self.cluster
        container = c.containers[key]
        cmd = ["iptables", "-w", *args]
        result = None if key in c.paused else container.exec_run(cmd, user="0")   # no exec in a frozen one
        if result is None or result.exit_code in (126, 127) or b"executable file not found" in (result.output or b""):
            try:
                out = c_run(c.images.tools, cmd, network_mode=f"container:{container.id}")
            except docker.errors.ContainerError as exc:
                raise FaultError(f"iptables {' '.join(args)} on {key}: {exc.stderr!r}") from exc
            except docker.errors.ImageNotFound as exc:
                raise FaultError(f"iptables is not in the node image; run `kch images build` for "
                                 f"{c.images.tools}") from exc
            return out
        if result.exit_code != 0:
            raise FaultError(f"iptables {' '.join(args)} on {key} failed: "
                             f"{(result.output or b'').decode(errors='replace').strip()}")

    def _rules(self, a, b) -> list[tuple[object, list[str]]]:
        ip = self.cluster.addresses
        return [(a, ["INPUT", "-s", ip[b], "-j", "DROP"]), (a, ["OUTPUT", "-d", ip[b], "-j", "DROP"]),
                (b, ["INPUT", "-s", ip[a], "-j", "DROP"]), (b, ["OUTPUT", "-d", ip[a], "-j", "DROP"])]

    def drop(self, pairs: Iterable[tuple[object, object]]) -> Callable[[], None]:
        """Cut each pair (node ids, or ``"clients"`` for the client-link proxy); return the undo."""
        applied: list[tuple[object, list[str]]] = []
        try:
            for a, b in pairs:
                for key, rule in self._rules(a, b):
                    if not isinstance(key, int):
                        continue          # the proxy container is cut from the node's side
                    if not self.cluster.is_running(key):
                        continue          # a stopped node starts with a fresh namespace anyway
                    self.dirty.add(key)
                    self._iptables(key, ["-I", *rule])
                    applied.append((key, rule))
        except BaseException:
            self._undo(applied)
            raise
        return lambda: self._undo(applied)

    def _undo(self, applied: list[tuple[object, list[str]]]) -> None:
        for key, rule in reversed(applied):
            if not self.cluster.is_running(key):
                continue              # gone with the node's namespace
            try:
                self._iptables(key, ["-D", *rule])
            except FaultError as exc:
                if "Bad rule" not in str(exc) and "does a matching rule exist" not in str(exc):
                    raise


def c_run(image: str, cmd: list[str], *, network_mode: str) -> bytes:
    from harness.cluster.engine import engine

    return engine().containers.run(image, cmd, network_mode=network_mode, cap_add=["NET_ADMIN"],
                                   remove=True, user="0")
