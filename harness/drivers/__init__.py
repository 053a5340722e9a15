"""Drivers: one program per client library, speaking docs/driver-protocol.md."""
