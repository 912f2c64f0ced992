"""``supabase db push``, emulated for tests and for users without the Supabase CLI.

It does what the CLI does (``pkg/migration/{file,apply,history}.go`` in supabase/cli):

- the history table is created as the CLI creates it (``lock_timeout = '4s'``, schema
  ``supabase_migrations``, ``schema_migrations (version text primary key)``, then the
  ``statements text[]`` and ``name text`` columns added if missing);
- local files ``<digits>_<name>.sql`` are matched against the remote versions: a remote
  version with no local file, or a local file older than the newest remote one that was
  never applied, is refused, writing nothing (the CLI's ``--include-all`` is not emulated);
- each pending file, in lexical order, after ``RESET ALL``, is split into statements by the
  CLI's own rules (see :func:`split`) and runs as one transaction together with its history
  row ``(version, name, statements)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from harness.errors import HarnessError
from harness.migrations import migrations_dir

HISTORY_DDL = (
    "set lock_timeout = '4s'",
    "create schema if not exists supabase_migrations",
    "create table if not exists supabase_migrations.schema_migrations (version text not null primary key)",
    "alter table supabase_migrations.schema_migrations add column if not exists statements text[]",
    "alter table supabase_migrations.schema_migrations add column if not exists name text",
)
INSERT_VERSION = "insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)"
FILE_PATTERN = re.compile(r"^([0-9]+)_(.*)\.sql$")


class PushError(HarnessError):
    """A push that was refused or failed; nothing of the failing file was written."""


# -- splitting, as the CLI's pkg/parser does -------------------------------------------------


def split(text: str) -> list[str]:
    """The statements of a migration file exactly as the Supabase CLI sends them.

    The CLI does not parse SQL: a state machine (``pkg/parser/state.go``) cuts at ``;``
    outside quotes, comments, dollar quotes, a character after a backslash, a parenthesis
    and a ``begin atomic ... end`` body. Each piece keeps its leading comments and loses
    its trailing ``;`` and surrounding whitespace; empty pieces are dropped. The same state
    machine is reproduced here, quirks included, so a file the CLI would cut wrongly fails
    in this emulation too instead of passing.
    """
    pieces: list[str] = []
    state: _State = _Ready()
    start = 0
    for i in range(len(text)):
        data = text[start : i + 1]
        following = state.next(text[i], data)
        if following is None:
            pieces.append(data)
            start, state = i + 1, _Ready()
        else:
            state = following
    pieces.append(text[start:])
    return [s for s in (p.rstrip(";").strip() for p in pieces) if s]


def _is_identifier(ch: str) -> bool:
    return ch.isalpha() or ch.isdigit() or ch in "_$"


class _State:
    def next(self, ch: str, data: str) -> _State | None:
        raise NotImplementedError


class _Ready(_State):
    def next(self, ch: str, data: str) -> _State | None:
        if ch == "$":
            return _Tag(len(data) - 1)
        if ch in "'\"":
            return _Quote(ch)
        if ch == "-":
            return _Comment()
        if ch == "/":
            return _Block()
        if ch == "\\":
            return _Escape()
        if ch == ";":
            return None
        if ch == "(":
            return _Atomic(self, ")")
        if ch in "cC" and _begins_atomic(data):
            return _Atomic(self, "end")
        return self


def _begins_atomic(data: str) -> bool:
    """``data`` ends with ``begin atomic`` (any case, any whitespace between, whole words)."""
    if not data.lower().endswith("atomic"):
        return False
    head = data[: -len("atomic")]
    if head and _is_identifier(head[-1]):
        return False
    prefix = head.rstrip()
    if not prefix.lower().endswith("begin"):
        return False
    rest = prefix[: -len("begin")]
    return not rest or not _is_identifier(rest[-1])


class _Comment(_State):
    def next(self, ch: str, data: str) -> _State | None:
        return _Dollar("\n") if ch == "-" else _Ready().next(ch, data)


class _Block(_State):
    def __init__(self) -> None:
        self.depth = 0

    def next(self, ch: str, data: str) -> _State | None:
        window = data[-2:]
        if window == "/*":
            self.depth += 1
            return self
        if self.depth == 0:
            return _Ready().next(ch, data)
        if window == "*/":
            self.depth -= 1
            if self.depth == 0:
                return _Ready()
        return self


class _Quote(_State):
    def __init__(self, delimiter: str) -> None:
        self.delimiter, self.escape = delimiter, False

    def next(self, ch: str, data: str) -> _State | None:
        if self.escape:
            if ch == self.delimiter:
                self.escape = False
                return self
            return _Ready().next(ch, data)
        if ch == self.delimiter:
            self.escape = True
        return self


class _Dollar(_State):
    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter

    def next(self, ch: str, data: str) -> _State | None:
        return _Ready() if data.endswith(self.delimiter) else self


class _Tag(_State):
    def __init__(self, offset: int) -> None:
        self.offset = offset

    def next(self, ch: str, data: str) -> _State | None:
        if ch == "$":
            return _Dollar(data[self.offset :])
        if ch.isalpha() or ch.isdigit() or ch == "_":
            return self
        return _Ready().next(ch, data)


class _Escape(_State):
    def next(self, ch: str, data: str) -> _State | None:
        return _Ready()


class _Atomic(_State):
    def __init__(self, prev: _State, delimiter: str) -> None:
        self.prev, self.delimiter = prev, delimiter

    def next(self, ch: str, data: str) -> _State | None:
        current = self.prev.next(ch, data)
        if current is not None:
            self.prev = current
        if isinstance(self.prev, _Ready) and data[-len(self.delimiter) :].lower() == self.delimiter:
            return _Ready()
        return self


# -- the migrations on disk and in the database -----------------------------------------------


@dataclass(frozen=True)
class LocalMigration:
    version: str
    name: str
    path: Path

    @property
    def statements(self) -> list[str]:
        return split(self.path.read_text())


def local_migrations(directory: Path | None = None) -> list[LocalMigration]:
    """``<digits>_<name>.sql`` files in lexical order (other files are ignored, as by the CLI)."""
    directory = directory or migrations_dir()
    found = []
    for path in sorted(directory.glob("*.sql")):
        if m := FILE_PATTERN.match(path.name):
            found.append(LocalMigration(m[1], m[2], path))
    return found


def remote_versions(conn: psycopg.Connection) -> list[str]:
    """Versions recorded in ``supabase_migrations.schema_migrations``, oldest first ([] when
    the database has never seen a push)."""
    if conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone()[0] is None:
        return []
    return [row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations order by 1")]


def pending(local: list[LocalMigration], remote: list[str]) -> list[LocalMigration]:
    """The CLI's ``FindPendingMigrations``: every remote version must exist locally, and no
    unapplied local file may sort before the newest applied one."""
    local_versions = {m.version for m in local}
    missing = [v for v in remote if v not in local_versions]
    if missing:
        raise PushError(f"remote migration versions not found in the local migrations directory: {', '.join(missing)}")
    applied = set(remote)
    newest = max(remote, default="")
    out_of_order = [m for m in local if m.version not in applied and m.version < newest]
    if out_of_order:
        raise PushError(
            "found local migration files to be inserted before the last migration on remote database: "
            + ", ".join(m.path.name for m in out_of_order)
        )
    return [m for m in local if m.version not in applied]


@dataclass
class PushReport:
    applied: list[str] = field(default_factory=list)
    already: int = 0

    def summary(self) -> str:
        return f"{len(self.applied)} migration(s) pushed, {self.already} already applied"


def push(url: str, directory: Path | None = None, *, out: Callable[[str], None] | None = None) -> PushReport:
    """Apply the pending migrations of ``directory`` to the database at ``url`` as
    ``supabase db push`` does. A failing file rolls back with its history row and stops the
    push; the error names the file and the statement."""
    local = local_migrations(directory)
    report = PushReport()
    with psycopg.connect(url, autocommit=True) as conn:
        todo = pending(local, remote_versions(conn))
        report.already = len(local) - len(todo)
        if todo:
            with conn.transaction():
                for statement in HISTORY_DDL:
                    conn.execute(statement)
        for migration in todo:
            if out:
                out(f"Applying migration {migration.path.name}...")
            conn.execute("reset all")
            statements = migration.statements
            try:
                with conn.transaction():
                    for index, statement in enumerate(statements):
                        try:
                            conn.execute(statement.encode())
                        except psycopg.Error as exc:
                            raise PushError(
                                f"{migration.path.name}: statement {index}: "
                                f"{exc.diag.message_primary or exc} [SQLSTATE {exc.sqlstate}]"
                            ) from exc
                    conn.execute(INSERT_VERSION, [migration.version, migration.name, statements])
            except psycopg.Error as exc:
                raise PushError(f"{migration.path.name}: {exc.diag.message_primary or exc}") from exc
            report.applied.append(migration.path.name)
    return report
