"""Apply the SQL tree to a database, file by file, in one fixed order, with a ledger.

Each file runs in its own transaction together with its ledger row, so a file is either
applied and recorded or neither. A second ``apply`` with nothing changed executes nothing.
Errors name the file and line: ``db/schema/010_profiles.sql:12: relation ... does not exist``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pglast import parser as pg_parser
from pglast import split

from harness import SQL_ROOT
from harness.errors import LoaderError
from harness.sqltree import SqlFile, sql_files

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

#: Session advisory lock key that keeps two concurrent applies from interleaving.
APPLY_LOCK = 0x636F6163  # "coac"


@dataclass
class ApplyReport:
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    standin: str = ""  # "loaded", "kept" or "skipped: ..." (Supabase's own auth is there)

    def summary(self) -> str:
        return f"{len(self.applied)} file(s) applied, {len(self.unchanged)} unchanged; Supabase stand-in {self.standin}"


def _line_of(text: str, char_offset: int) -> int:
    return text.count("\n", 0, char_offset) + 1


def statements(text: str) -> list[tuple[int, str]] | None:
    """The file's statements with their first line, split by PostgreSQL's own parser; None
    when the file does not parse (the server then reports the syntax error itself)."""
    try:
        slices = list(split(text, with_parser=True, only_slices=True))
    except pg_parser.ParseError:
        return None
    result = []
    for piece in slices:
        body = text[piece]
        lead = len(body) - len(body.lstrip())
        result.append((_line_of(text, piece.start + lead), body.strip()))
    return result


def _error(file: SqlFile, line: int, exc: psycopg.Error) -> LoaderError:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip()
    extra = f" ({diag.context.strip().splitlines()[0]})" if diag.context else ""
    return LoaderError(f"{file.name}:{line}: {message}{extra} [SQLSTATE {exc.sqlstate}]")


def _execute_file(conn: psycopg.Connection, file: SqlFile) -> None:
    """Run a file's statements inside the caller's transaction, naming file:line on error."""
    parsed = statements(file.text)
    if parsed is None:
        try:
            conn.execute(file.text.encode())
        except psycopg.Error as exc:
            position = int(exc.diag.statement_position or 1)
            raise _error(file, _line_of(file.text, position - 1), exc) from exc
        raise LoaderError(f"{file.name}: does not parse, yet the server accepted it")
    for line, statement in parsed:
        try:
            conn.execute(statement.encode())
        except psycopg.Error as exc:
            position = int(exc.diag.statement_position or 1)
            raise _error(file, line + _line_of(statement, position - 1) - 1, exc) from exc


def _has_own_auth(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regnamespace('auth') is not null").fetchone()[0]


def apply(
    url: str,
    *,
    root: Path = SQL_ROOT,
    seed: bool = False,
    standin: bool | None = None,
) -> ApplyReport:
    """Bring the database at ``url`` up to the SQL tree under ``root``.

    ``standin=None`` loads the Supabase stand-in only where the database has no ``auth``
    schema of its own (or where the stand-in was loaded before); ``seed`` adds the demo data.
    """
    report = ApplyReport()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", [APPLY_LOCK])
        try:
            with conn.transaction():
                conn.execute(LEDGER_DDL.encode())
            ledger = dict(conn.execute("select file, checksum from coachdb_meta.applied_files").fetchall())
            stages = ["schema", "functions", "policies"] + (["seed"] if seed else [])
            if standin is None:
                if any(name.startswith("db/standin/") for name in ledger):
                    standin, report.standin = True, "kept"
                elif _has_own_auth(conn):
                    standin, report.standin = False, "skipped: the database has its own auth schema"
                else:
                    standin, report.standin = True, "loaded"
            else:
                report.standin = "loaded" if standin else "skipped (asked)"
            if standin:
                stages.insert(0, "standin")
            for file in sql_files(root, stages=tuple(stages)):
                recorded = ledger.get(file.name)
                if recorded == file.checksum:
                    report.unchanged.append(file.name)
                    continue
                if recorded is not None and not file.repeatable:
                    raise LoaderError(
                        f"{file.name}:1: changed after it was applied to this database; "
                        "schema files are applied once: put the change in a new file"
                    )
                with conn.transaction():
                    _execute_file(conn, file)
                    conn.execute(
                        "insert into coachdb_meta.applied_files (file, checksum) values (%s, %s) "
                        "on conflict (file) do update set checksum = excluded.checksum, applied_at = now()",
                        [file.name, file.checksum],
                    )
                report.applied.append(file.name)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", [APPLY_LOCK])
    return report
