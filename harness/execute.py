"""Run SQL text statement by statement, so that an error names ``file:line``.

Statements are split by PostgreSQL's own parser (pglast), each run on its own, and an error
is reported as ``db/schema/010_profiles.sql:12: relation ... does not exist [SQLSTATE 42P01]``.
A lock timeout is not reported here: it propagates as itself, for ``harness.guard`` to retry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
from pglast import parser as pg_parser
from pglast import split

from harness.errors import LoaderError
from harness.sqltree import sql_files


def line_of(text: str, char_offset: int) -> int:
    return text.count("\n", 0, char_offset) + 1


def statements(text: str) -> list[tuple[int, str]] | None:
    """The script's statements with their first line, split by PostgreSQL's own parser; None
    when the script does not parse (the server then reports the syntax error itself)."""
    try:
        slices = list(split(text, with_parser=True, only_slices=True))
    except pg_parser.ParseError:
        return None
    result = []
    for piece in slices:
        body = text[piece]
        lead = len(body) - len(body.lstrip())
        result.append((line_of(text, piece.start + lead), body.strip()))
    return result


def error(name: str, line: int, exc: psycopg.Error) -> LoaderError:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip()
    extra = f" ({diag.context.strip().splitlines()[0]})" if diag.context else ""
    return LoaderError(f"{name}:{line}: {message}{extra} [SQLSTATE {exc.sqlstate}]")


def run_statement(conn: psycopg.Connection, name: str, line: int, statement: str) -> None:
    try:
        conn.execute(statement.encode())
    except psycopg.errors.LockNotAvailable:
        raise
    except psycopg.Error as exc:
        position = int(exc.diag.statement_position or 1)
        raise error(name, line + line_of(statement, position - 1) - 1, exc) from exc


def run_script(
    conn: psycopg.Connection,
    name: str,
    text: str,
    *,
    skip: Callable[[psycopg.Connection, str], bool] | None = None,
) -> list[str]:
    """Run a script's statements inside the caller's transaction, naming ``name:line`` on
    error; ``skip(conn, statement)`` may leave out a statement that would change nothing.
    Returns the statements skipped."""
    parsed = statements(text)
    if parsed is None:
        try:
            conn.execute(text.encode())
        except psycopg.Error as exc:
            position = int(exc.diag.statement_position or 1)
            raise error(name, line_of(text, position - 1), exc) from exc
        raise LoaderError(f"{name}: does not parse, yet the server accepted it")
    skipped = []
    for line, statement in parsed:
        if skip is not None and skip(conn, statement):
            skipped.append(statement)
            continue
        run_statement(conn, name, line, statement)
    return skipped


def load_files(url: str, root: Path, stages: tuple[str, ...]) -> None:
    """Execute the tree's files of ``stages`` as they are, each in its own transaction, with
    no ledger: how a reference database of the declared state is built."""
    with psycopg.connect(url, autocommit=True) as conn:
        for file in sql_files(root, stages=stages):
            with conn.transaction():
                run_script(conn, file.name, file.text)
