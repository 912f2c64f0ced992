"""The default provider: PostgreSQL 16 from the ``pgserver`` wheel. No Docker, no system
server, nothing but pip. We use the wheel's binaries and run them ourselves (rather than
``pgserver.get_server``) to listen on a TCP port, choose settings and crash the server on
purpose in fault tests."""

from __future__ import annotations

from harness.providers._wheel import WheelProvider


class EmbeddedProvider(WheelProvider):
    name = "embedded"
    package, distribution = "pgserver", "pgserver"
