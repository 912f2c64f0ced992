"""The advisor lints: one SQL file per rule under ``lints/``, each a query returning
(name, level, object, detail, remediation), after Supabase's Splinter. The schemas they look
at come from two settings, so each file also runs as it is in psql:

    set coachdb.exposed_schemas = 'public'; set coachdb.app_schemas = 'public,app_private';
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from harness.doctor.findings import Finding

LINTS = Path(__file__).parent / "lints"
EXPOSED_SCHEMAS = ("public",)
APP_SCHEMAS = ("public", "app_private")


def lint_files() -> list[Path]:
    return sorted(LINTS.glob("*.sql"))


def check(conn: psycopg.Connection) -> list[Finding]:
    findings = []
    with conn.transaction():
        conn.execute(
            "select set_config('coachdb.exposed_schemas', %s, true), set_config('coachdb.app_schemas', %s, true)",
            [",".join(EXPOSED_SCHEMAS), ",".join(APP_SCHEMAS)],
        )
        for path in lint_files():
            for row in conn.execute(path.read_text().encode()).fetchall():
                findings.append(Finding(*row))
    return findings
