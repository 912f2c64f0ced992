"""The two ledgers apply keeps, and how it tells a coachdb database from any other.

- ``supabase_migrations.schema_migrations``: the history of the schema, created and written
  exactly as the Supabase CLI does (``supabase db push``), so either tool continues what the
  other deployed;
- ``coachdb_meta.applied_files``: the stand-in's files and the repeatable files (functions,
  policies) the database was last converged to, with their sha256.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from harness import SQL_ROOT
from harness.execute import statements
from harness.migrations import BASELINE_STAGES, baseline, migrations_dir, read_migrations
from harness.sqltree import sql_files

LEDGER_DDL = """
create schema if not exists coachdb_meta;
comment on schema coachdb_meta is 'coachdb''s own bookkeeping; never exposed.';
revoke all on schema coachdb_meta from public;
create table if not exists coachdb_meta.applied_files (
    file text primary key,
    checksum text not null,
    applied_at timestamptz not null default now()
);
comment on table coachdb_meta.applied_files is
'Ledger of the SQL files applied: which file, its sha256, when.';
"""

#: The migration history exactly as the Supabase CLI creates it (``supabase db push``).
MIGRATIONS_DDL = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
alter table supabase_migrations.schema_migrations add column if not exists statements text[];
alter table supabase_migrations.schema_migrations add column if not exists name text;
"""


@dataclass(frozen=True)
class PendingMigration:
    """A migration as apply runs it; ``label`` is what errors name (its file)."""

    version: str
    name: str
    text: str
    label: str


def tree_migrations(root: Path = SQL_ROOT) -> list[PendingMigration]:
    """The migrations apply brings: ``supabase/migrations`` under ``root``; a tree without
    that directory (a scratch tree in a test) brings its own files as its baseline."""
    directory = migrations_dir(root)
    if directory.is_dir() and any(directory.glob("*.sql")):
        return [
            PendingMigration(m.version, m.name, m.text, f"supabase/migrations/{m.filename}")
            for m in read_migrations(directory)
        ]
    files = sql_files(root, stages=BASELINE_STAGES)
    return [PendingMigration(m.version, m.name, f.text, f.name) for m, f in zip(baseline(root), files, strict=True)]


def exists(conn: psycopg.Connection, query: str, arg: str) -> bool:
    try:
        return conn.execute(query, [arg]).fetchone()[0] is not None
    except psycopg.Error:  # a signature naming a type that does not exist yet
        return False


def coachdb_evidence(conn: psycopg.Connection) -> str | None:
    """Why this is a coachdb database, or None when it is not: apply's ledger is there, or
    ``schema_migrations`` holds the baseline's versions (deployed by ``supabase db push``).
    The one definition of "a coachdb database", for apply and doctor alike. A ledger the
    role may not read says nothing about whose database it is."""
    if exists(conn, "select to_regclass(%s)", "coachdb_meta.applied_files"):
        return "its ledger coachdb_meta.applied_files is present"
    if not exists(conn, "select to_regclass(%s)", "supabase_migrations.schema_migrations"):
        return None
    versions = [m.version for m in baseline()]
    try:
        with conn.transaction():
            row = conn.execute(
                "select min(version) from supabase_migrations.schema_migrations where version = any(%s)", [versions]
            ).fetchone()
    except psycopg.Error:
        return None
    return f"supabase_migrations.schema_migrations holds coachdb's baseline ({row[0]})" if row[0] else None


def tree_mode(conn: psycopg.Connection) -> bool:
    """True on a coachdb database (see ``coachdb_evidence``)."""
    return coachdb_evidence(conn) is not None


@dataclass
class State:
    has_auth: bool
    ledger: dict[str, str]
    applied_versions: set[str]
    has_ledger: bool
    has_history: bool
    coachdb: bool


def inspect(conn: psycopg.Connection) -> State:
    has_ledger = exists(conn, "select to_regclass(%s)", "coachdb_meta.applied_files")
    has_history = exists(conn, "select to_regclass(%s)", "supabase_migrations.schema_migrations")
    ledger = (
        dict(conn.execute("select file, checksum from coachdb_meta.applied_files").fetchall()) if has_ledger else {}
    )
    versions = (
        {r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations").fetchall()}
        if has_history
        else set()
    )
    return State(
        has_auth=exists(conn, "select to_regnamespace(%s)", "auth"),
        ledger=ledger,
        applied_versions=versions,
        has_ledger=has_ledger,
        has_history=has_history,
        coachdb=tree_mode(conn),
    )


def record_file(conn: psycopg.Connection, name: str, checksum: str) -> None:
    conn.execute(
        "insert into coachdb_meta.applied_files (file, checksum) values (%s, %s) "
        "on conflict (file) do update set checksum = excluded.checksum, applied_at = now()",
        [name, checksum],
    )


def record_migration(conn: psycopg.Connection, m: PendingMigration) -> None:
    conn.execute(
        "insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)"
        " on conflict (version) do nothing",
        [m.version, m.name, [text for _, text in statements(m.text) or []]],
    )
