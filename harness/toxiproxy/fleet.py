"""Several toxiproxy servers behind the interface of one: each proxy lives on one server.

The docker provider runs one toxiproxy for client links (its own container) and one inside
every node's container for that node's outgoing links. A node's server dies with its node and
freezes with it; the fleet keeps what was asked of each proxy (toxics, disabled) as desired
state, applies it at once to a server that is up, and again when a server comes back
(:meth:`sync`), so a toxic outlives a restart of its node as it does on the local provider.
"""

from __future__ import annotations

from typing import Callable

from harness.errors import FaultError
from harness.toxiproxy.client import Proxy, ToxiproxyClient


class ToxiproxyFleet:
    """``servers``: key -> API client; ``proxies``: key -> the proxies that server holds;
    ``live(key)``: whether that server can be asked now (its node running and not paused)."""

    def __init__(self, servers: dict[str, ToxiproxyClient], proxies: dict[str, list[Proxy]],
                 live: Callable[[str], bool]) -> None:
        self.servers = servers
        self.held = proxies
        self.live = live
        self._home = {p.name: key for key, plist in proxies.items() for p in plist}
        self._toxics: dict[str, dict[str, dict]] = {name: {} for name in self._home}
        self._disabled: set[str] = set()

    def _server(self, proxy: str) -> tuple[str, ToxiproxyClient]:
        key = self._home.get(proxy)
        if key is None:
            raise FaultError(f"toxiproxy: no proxy {proxy!r} (HTTP 404)")
        return key, self.servers[key]

    # --- the ToxiproxyClient calls the nemesis makes ---------------------------------------
    def add_toxic(self, proxy: str, type: str, *, name: str | None = None, stream: str = "downstream",
                  toxicity: float = 1.0, **attributes: int) -> None:
        key, server = self._server(proxy)
        name = name or f"{type}_{stream}"
        if name in self._toxics[proxy]:
            raise FaultError(f"toxiproxy: toxic {name} already exists on {proxy} (HTTP 409)")
        if self.live(key):
            server.add_toxic(proxy, type, name=name, stream=stream, toxicity=toxicity, **attributes)
        self._toxics[proxy][name] = {"type": type, "stream": stream, "toxicity": toxicity, **attributes}

    def remove_toxic(self, proxy: str, name: str) -> None:
        key, server = self._server(proxy)
        if self._toxics[proxy].pop(name, None) is None:
            raise FaultError(f"toxiproxy: no toxic {name} on {proxy} (HTTP 404)")
        if self.live(key):
            try:
                server.remove_toxic(proxy, name)
            except FaultError as exc:
                if "HTTP 404" not in str(exc):   # gone with a restart of its server: nothing to undo
                    raise

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        key, server = self._server(proxy)
        (self._disabled.discard if enabled else self._disabled.add)(proxy)
        if self.live(key):
            server.set_enabled(proxy, enabled)

    def reset(self) -> None:
        for toxics in self._toxics.values():
            toxics.clear()
        self._disabled.clear()
        for key, server in self.servers.items():
            if self.live(key):
                server.reset()

    def proxies(self) -> dict[str, Proxy]:
        return {p.name: p for plist in self.held.values() for p in plist}

    # --- bringing a server back --------------------------------------------------------------
    def sync(self, key: str) -> None:
        """Make server ``key`` hold its proxies and exactly the desired toxics and states."""
        server = self.servers[key]
        if self.held[key]:
            server.populate(self.held[key])
        server.reset()
        for proxy in self.held[key]:
            if proxy.name in self._disabled:
                server.set_enabled(proxy.name, False)
            for name, spec in self._toxics[proxy.name].items():
                spec = dict(spec)
                server.add_toxic(proxy.name, spec.pop("type"), name=name, stream=spec.pop("stream"),
                                 toxicity=spec.pop("toxicity"), **spec)
