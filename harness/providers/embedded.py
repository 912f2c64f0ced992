"""The default provider: PostgreSQL 16 from the ``pgserver`` wheel. No Docker, no system
server, nothing but pip. We use the wheel's binaries and run them ourselves (rather than
``pgserver.get_server``) to listen on a TCP port, choose settings and crash the server on
purpose in fault tests."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ProviderUnavailable
from harness.providers._binaries import BinariesProvider
from harness.providers._wheel import usable_install_dir, wheel_install_dir

PACKAGE, DISTRIBUTION = "pgserver", "pgserver"


class EmbeddedProvider(BinariesProvider):
    name = "embedded"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            wheel_install_dir(PACKAGE, DISTRIBUTION)
        except ProviderUnavailable as exc:
            return str(exc)
        return None

    def bin_dir(self) -> Path:
        return usable_install_dir(PACKAGE, DISTRIBUTION) / "bin"
