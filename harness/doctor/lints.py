"""The advisor lints: one SQL file per rule under ``lints/``, every file a query with the
same output columns as Supabase's Splinter (name, level, object, detail, remediation).

Each file opens with its rule, why it matters, and three tags doctor reads:
``-- category:`` (SECURITY or PERFORMANCE), ``-- tags:`` (``access``: a rule the isolation
matrix also enforces, through :mod:`harness.access`) and ``-- modes:`` (``tree``: a coachdb
database; ``generic``: any database). The files are the only definition of their rules.

Which schemas a lint looks at comes from two settings, so each file also runs as it is in psql:

    set coachdb.exposed_schemas = 'public'; set coachdb.app_schemas = 'public,app_private';
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness.doctor.findings import Finding, skipped
from harness.doctor.mode import GENERIC, TREE

LINTS = Path(__file__).parent / "lints"
EXPOSED_SCHEMAS = ("public",)
APP_SCHEMAS = ("public", "app_private")

#: Schemas no generic check looks into: PostgreSQL's own, Supabase's services', coachdb's ledger.
SYSTEM_SCHEMAS = (
    "pg_catalog", "information_schema", "pg_toast", "coachdb_meta", "auth", "storage", "extensions",
    "graphql", "graphql_public", "realtime", "_realtime", "supabase_functions", "supabase_migrations",
    "pgsodium", "pgsodium_masks", "vault", "net", "cron", "pgbouncer", "_analytics", "pgtle", "pgmq",
)  # fmt: skip

_TAG = re.compile(r"^-- (category|tags|modes): (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Lint:
    """One rule: its file, and the tags its header declares."""

    path: Path
    category: str
    tags: frozenset[str]
    modes: frozenset[str]

    @property
    def name(self) -> str:
        return self.path.stem.split("_", 1)[1]

    @property
    def sql(self) -> str:
        return self.path.read_text()


def _words(value: str) -> frozenset[str]:
    return frozenset(word.strip() for word in value.split(",") if word.strip())


def all_lints() -> list[Lint]:
    """Every lint file, in name order, with the tags its header declares."""
    lints = []
    for path in sorted(LINTS.glob("*.sql")):
        tags = {key: value.strip() for key, value in _TAG.findall(path.read_text())}
        lints.append(
            Lint(path, tags.get("category", ""), _words(tags.get("tags", "")), _words(tags.get("modes", TREE)))
        )
    return lints


def app_schemas(conn: psycopg.Connection) -> tuple[str, ...]:
    """Every schema a generic check looks at: all but the system's and Supabase's own."""
    rows = conn.execute(
        "select nspname from pg_namespace where not (nspname = any(%s))"
        " and nspname not like 'pg\\_temp\\_%%' and nspname not like 'pg\\_toast%%' order by 1",
        [list(SYSTEM_SCHEMAS)],
    ).fetchall()
    return tuple(r[0] for r in rows)


def run(
    conn: psycopg.Connection,
    lints: list[Lint],
    *,
    exposed: tuple[str, ...] = EXPOSED_SCHEMAS,
    app: tuple[str, ...] = APP_SCHEMAS,
) -> list[Finding]:
    """Run the given lints, each in its own transaction: one that fails (a missing privilege,
    an older server) is reported skipped and the others still run."""
    findings = []
    for lint in lints:
        try:
            with conn.transaction():
                conn.execute("set local search_path = pg_catalog")  # every name in the output qualified
                conn.execute(
                    "select set_config('coachdb.exposed_schemas', %s, true),"
                    " set_config('coachdb.app_schemas', %s, true)",
                    [",".join(exposed), ",".join(app)],
                )
                findings += [Finding(*row) for row in conn.execute(lint.sql.encode()).fetchall()]
        except psycopg.Error as exc:
            findings.append(skipped(lint.name, _reason(exc)))
    return findings


def check(conn: psycopg.Connection, mode: str = TREE) -> list[Finding]:
    """Every lint of the mode: in a coachdb database on its own schemas, elsewhere on every
    schema that is not the system's."""
    lints = [lint for lint in all_lints() if mode in lint.modes]
    if mode == GENERIC:
        return run(conn, lints, app=app_schemas(conn))
    return run(conn, lints)


def _reason(exc: psycopg.Error) -> str:
    return f"{exc.sqlstate or 'error'}: {str(exc).strip().splitlines()[0]}"
