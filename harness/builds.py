"""The ways to build the app's schema on a database, and scratch databases to build in.

- :func:`from_declared`: the declared state itself, the files of ``db/`` run in load order
  (after the stand-in): what the tree says, whatever the history says;
- :func:`from_migrations`: Supabase's roles and ``auth`` first (the stand-in, as a Supabase
  project has them before any migration), then ``supabase/migrations`` the way
  ``supabase db push`` loads them;
- :func:`from_apply`: ``coachdb apply``, whatever it does (today the tree's files with its
  ledger; with issue 14, the migrations and convergence).

``coachdb diff`` builds the previous state from the migrations and the edited tree from the
declared files; the tests prove that all three give the same catalog.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from harness import SQL_ROOT
from harness.errors import HarnessError
from harness.loader import ApplyReport, apply, statements
from harness.migrations import BASELINE_STAGES
from harness.providers.base import to_url
from harness.sqltree import SqlFile, sql_files
from harness.supabase_push import PushReport, push


def from_apply(url: str, root: Path = SQL_ROOT, *, seed: bool = False) -> ApplyReport:
    return apply(url, root=root, seed=seed)


def from_declared(url: str, root: Path = SQL_ROOT) -> None:
    """The stand-in (where ``auth`` is absent), then every file of ``db/schema``,
    ``db/functions`` and ``db/policies`` in load order, each in its own transaction; no
    ledger. An error names the file and the statement's line."""
    install_standin(url, root)
    _run_files(url, sql_files(root, stages=BASELINE_STAGES))


def _run_files(url: str, files: list[SqlFile]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for file in files:
            with conn.transaction():
                for line, statement in statements(file.text) or [(1, file.text)]:
                    try:
                        conn.execute(statement.encode())
                    except psycopg.Error as exc:
                        raise HarnessError(f"{file.name}:{line}: {exc.diag.message_primary or exc}") from exc


def install_standin(url: str, root: Path = SQL_ROOT) -> None:
    """Supabase's roles, ``auth`` schema and default privileges, as a fresh Supabase project
    has them (no ledger: on Supabase they are not the app's)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select to_regnamespace('auth') is not null").fetchone()[0]:
            return
    _run_files(url, sql_files(root, stages=("standin",)))


def from_migrations(url: str, directory: Path | None = None, root: Path = SQL_ROOT) -> PushReport:
    install_standin(url, root)
    return push(url, directory)


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "coachdb_scratch", *, copy_of: str | None = None) -> Iterator[str]:
    """A new database on the server of ``server_url``, empty or a copy of the database
    ``copy_of`` (a URL on that server, with no session connected), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    template = conninfo_to_dict(copy_of)["dbname"] if copy_of else "template0"
    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
            )
    except psycopg.Error as exc:
        raise HarnessError(f"cannot create a scratch database ({exc.diag.message_primary or exc})") from exc
    try:
        yield to_url({**conninfo_to_dict(server_url), "dbname": name})
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
