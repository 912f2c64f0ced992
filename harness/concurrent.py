"""Statements PostgreSQL will not run inside a transaction (``create index concurrently``,
``drop index concurrently``, ``reindex ... concurrently``), run after their migration's
transaction and resumable.

The migration's transaction records each such statement in ``coachdb_meta.pending_steps``
together with the migration's own row, so "the migration is applied" and "its concurrent
steps are owed" commit as one. Each step then runs on its own (reads and writes on the table
go on meanwhile) and its row is deleted when it succeeds. A rerun of ``apply`` after an
interruption (a killed backend, a lost connection, a crash) finds the rows still there and
runs them again; a ``create index concurrently`` that was interrupted leaves an INVALID
index behind, which is dropped (concurrently) and built again. An index that is already
there and valid is not built twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from pglast import ast, parse_sql
from psycopg import sql

PENDING_DDL = """
create table if not exists coachdb_meta.pending_steps (
    version text not null,
    ordinal integer not null,
    statement text not null,
    recorded_at timestamptz not null default now(),
    constraint pending_steps_pkey primary key (version, ordinal)
);
comment on table coachdb_meta.pending_steps is
'Statements a migration owes that cannot run in a transaction (create index concurrently); deleted when done.';
"""


@dataclass(frozen=True)
class Step:
    version: str
    ordinal: int
    statement: str


def record(conn: psycopg.Connection, version: str, statements: list[str]) -> list[Step]:
    """Inside the migration's transaction: owe these statements."""
    steps = [Step(version, i, s) for i, s in enumerate(statements, start=1)]
    for step in steps:
        conn.execute(
            "insert into coachdb_meta.pending_steps (version, ordinal, statement) values (%s, %s, %s)"
            " on conflict (version, ordinal) do nothing",
            [step.version, step.ordinal, step.statement],
        )
    return steps


def pending(conn: psycopg.Connection) -> list[Step]:
    """What earlier runs (or this one) still owe, in order; [] when the ledger is not there."""
    if conn.execute("select to_regclass('coachdb_meta.pending_steps')").fetchone()[0] is None:
        return []
    rows = conn.execute("select version, ordinal, statement from coachdb_meta.pending_steps order by 1, 2")
    return [Step(*row) for row in rows.fetchall()]


def _index_target(statement: str) -> tuple[str, str] | None:
    """(schema, index name) of a named ``create index concurrently``; None otherwise."""
    stmt = parse_sql(statement)[0].stmt
    if isinstance(stmt, ast.IndexStmt) and stmt.concurrent and stmt.idxname:
        return stmt.relation.schemaname or "public", stmt.idxname
    return None


def index_state(conn: psycopg.Connection, schema: str, name: str) -> str:
    """``absent``, ``valid`` or ``invalid`` (left by an interrupted concurrent build)."""
    row = conn.execute(
        "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid"
        " where c.relname = %s and c.relnamespace = to_regnamespace(%s)",
        [name, schema],
    ).fetchone()
    return "absent" if row is None else "valid" if row[0] else "invalid"


def run_step(conn: psycopg.Connection, step: Step) -> str:
    """Run one owed step outside any transaction; returns what was done. ``conn`` must be in
    autocommit mode, with no lock_timeout: a concurrent build waits for older transactions
    by design, and blocks no reader or writer while it does."""
    done = "ran"
    target = _index_target(step.statement)
    if target is not None:
        state = index_state(conn, *target)
        if state == "valid":
            done = "already built"
        else:
            if state == "invalid":
                conn.execute(sql.SQL("drop index concurrently if exists {}").format(sql.Identifier(*target)))
                done = "dropped the invalid index left by an interrupted build, rebuilt"
            conn.execute(step.statement.encode())
    else:
        conn.execute(step.statement.encode())
    conn.execute(
        "delete from coachdb_meta.pending_steps where version = %s and ordinal = %s", [step.version, step.ordinal]
    )
    return done
