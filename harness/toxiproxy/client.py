"""A small typed client for toxiproxy's HTTP API (written against server v2.12).

Only the standard library is used. Every failure is a :class:`~harness.errors.KchError`:
bad toxic arguments are a :class:`UsageError` (raised before any request), an error answer
from toxiproxy is a :class:`FaultError`, and an API that cannot be reached is a
:class:`ClusterError`.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from harness.vocab.faults import TOXICS
from harness.errors import ClusterError, FaultError, UsageError

TOXIC_TYPES: dict[str, frozenset[str]] = {t: frozenset(a) for t, a in TOXICS.items()}
"""Toxic type -> the attribute names it accepts (toxiproxy ignores unknown ones silently)."""

STREAMS = ("upstream", "downstream")


@dataclass(frozen=True)
class Toxic:
    """A toxic on a proxy; ``attributes`` holds the type's settings (times in ms, rates in KB/s)."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Toxic:
        return cls(name=data["name"], type=data["type"], stream=data["stream"],
                   toxicity=float(data["toxicity"]), attributes=dict(data.get("attributes") or {}))


@dataclass(frozen=True)
class Proxy:
    """A proxy as toxiproxy reports it: ``listen`` is ``host:port`` with the port resolved."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True

    @property
    def address(self) -> tuple[str, int]:
        """The listen address as a ``(host, port)`` pair, ready for ``socket.create_connection``."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proxy:
        return cls(name=data["name"], listen=data["listen"], upstream=data["upstream"],
                   enabled=bool(data["enabled"]))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": self.enabled}


def check_toxic(type: str, *, stream: str, toxicity: float, attributes: dict[str, Any]) -> None:
    """Raise :class:`UsageError` unless the toxic type, stream, toxicity and attributes are valid."""
    if type not in TOXIC_TYPES:
        raise UsageError(f"unknown toxic type {type!r}: allowed types are {', '.join(sorted(TOXIC_TYPES))}")
    if stream not in STREAMS:
        raise UsageError(f"bad stream {stream!r} for toxic {type!r}: allowed are {', '.join(STREAMS)}")
    if isinstance(toxicity, bool) or not isinstance(toxicity, int | float) or not 0.0 <= toxicity <= 1.0:
        raise UsageError(f"bad toxicity {toxicity!r} for toxic {type!r}: must be a number from 0.0 to 1.0")
    allowed = TOXIC_TYPES[type]
    for key, value in attributes.items():
        if key not in allowed:
            raise UsageError(f"toxic type {type!r} has no attribute {key!r}: allowed are {', '.join(sorted(allowed))}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UsageError(f"attribute {key!r} of toxic {type!r} must be a non-negative integer, not {value!r}")


def _name(proxy: str | Proxy) -> str:
    return quote(proxy.name if isinstance(proxy, Proxy) else proxy, safe="")


class ToxiproxyClient:
    """Client of one toxiproxy server's HTTP API.

    Each instance talks to its own ``host:port`` (no global state), opens a fresh HTTP
    connection per call and never goes through ``$http_proxy``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8474, *, timeout: float = 15.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"ToxiproxyClient(host={self.host!r}, port={self.port})"

    def _request(self, method: str, path: str, body: Any = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        headers = {} if data is None else {"Content-Type": "application/json"}
        req = urllib.request.Request(f"http://{self.host}:{self.port}{path}", data=data,
                                     headers=headers, method=method)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                text = exc.read().decode(errors="replace").strip()
            try:
                text = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                pass
            raise FaultError(f"toxiproxy {method} {path} failed with HTTP {exc.code}: {text or exc.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise ClusterError(f"toxiproxy API at {self.host}:{self.port} unreachable: {reason}") from exc

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        raw = self._request(method, path, body)
        return json.loads(raw) if raw.strip() else None

    def version(self) -> str:
        """The server's version string (``"git"`` for a build without version stamp)."""
        raw = self._request("GET", "/version").decode().strip()
        try:  # v2.6+ answers {"version": "..."}; older servers answer plain text
            return str(json.loads(raw)["version"])
        except (ValueError, KeyError, TypeError):
            return raw

    def proxies(self) -> dict[str, Proxy]:
        """All proxies by name."""
        return {name: Proxy.from_json(p) for name, p in self._json("GET", "/proxies").items()}

    def create_proxy(self, name: str, *, listen: str, upstream: str, enabled: bool = True) -> Proxy:
        """Create a proxy; ``listen="127.0.0.1:0"`` picks a free port, shown in the result."""
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return Proxy.from_json(self._json("POST", "/proxies", body))

    def populate(self, proxies: list[Proxy]) -> list[Proxy]:
        """Create many proxies in one call and return them as the server reports them.

        A proxy of the same name is replaced if its listen or upstream differs and kept
        otherwise; proxies not in the list are left alone. A disabled proxy keeps port 0
        in ``listen`` until it is first enabled.
        """
        answer = self._json("POST", "/populate", [p.to_json() for p in proxies])
        return [Proxy.from_json(p) for p in answer["proxies"]]

    def delete_proxy(self, name: str) -> None:
        """Delete a proxy, closing its connections; an unknown name is a :class:`FaultError`."""
        self._request("DELETE", f"/proxies/{_name(name)}")

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable a proxy; disabled ("down") it closes its connections and stops listening."""
        self._request("PATCH", f"/proxies/{_name(name)}", {"enabled": bool(enabled)})

    def toxics(self, proxy: str | Proxy) -> list[Toxic]:
        """The toxics active on a proxy."""
        return [Toxic.from_json(t) for t in self._json("GET", f"/proxies/{_name(proxy)}/toxics")]

    def add_toxic(self, proxy: str | Proxy, type: str, *, name: str | None = None,
                  stream: str = "downstream", toxicity: float = 1.0, **attributes: int) -> Toxic:
        """Add a toxic to a proxy; it applies to new and existing connections at once.

        ``name`` defaults to ``{type}_{stream}``; ``toxicity`` is the fraction of connections
        it affects. Attributes are checked against :data:`TOXIC_TYPES` before any request.
        """
        check_toxic(type, stream=stream, toxicity=toxicity, attributes=attributes)
        body: dict[str, Any] = {"type": type, "stream": stream, "toxicity": toxicity,
                                "attributes": attributes}
        if name is not None:
            body["name"] = name
        return Toxic.from_json(self._json("POST", f"/proxies/{_name(proxy)}/toxics", body))

    def remove_toxic(self, proxy: str | Proxy, name: str) -> None:
        """Remove one toxic from a proxy; an unknown name is a :class:`FaultError`."""
        self._request("DELETE", f"/proxies/{_name(proxy)}/toxics/{quote(name, safe='')}")

    def reset(self) -> None:
        """Enable every proxy and remove every toxic (proxies themselves are kept)."""
        self._request("POST", "/reset")
