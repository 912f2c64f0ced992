"""PostgreSQL from the system's packages (Debian's ``postgresql-15``), found in
``COACHDB_PG_BINDIR``, ``/usr/lib/postgresql/<version>/bin`` (15 first) or ``pg_config``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from harness.errors import ProviderUnavailable
from harness.providers._binaries import BinariesProvider

PREFERRED_VERSION = "15"


def find_bin_dir() -> Path:
    configured = os.environ.get("COACHDB_PG_BINDIR")
    candidates: list[Path] = [Path(configured)] if configured else []
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted((p.name for p in debian.iterdir()), key=lambda v: (v != PREFERRED_VERSION, v))
        candidates += [debian / v / "bin" for v in versions]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    raise ProviderUnavailable(
        "no system PostgreSQL server binaries (initdb, postgres) found: "
        "apt-get install postgresql-15, or set COACHDB_PG_BINDIR"
    )


class SystemProvider(BinariesProvider):
    name = "system"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            find_bin_dir()
        except ProviderUnavailable as exc:
            return str(exc)
        return None

    def bin_dir(self) -> Path:
        return find_bin_dir()
