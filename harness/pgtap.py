"""Run a pgTAP file against a database and read its TAP output, assertion by assertion.

A pgTAP file is ordinary SQL (``begin; select plan(n); ... select * from finish();
rollback;``) whose result rows are TAP lines. Statements run one at a time, split by the
same parser the loader uses, so an error names the file's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from harness.loader import statements

TAP_LINE = re.compile(
    r"^(?P<not>not )?ok (?P<number>\d+)(?: - (?P<description>.*?))?"
    r"(?: # (?P<directive>SKIP|TODO)\S*(?: (?P<reason>.*))?)?$"
)
PLAN_LINE = re.compile(r"^1\.\.(?P<count>\d+)$")


@dataclass
class Assertion:
    number: int
    ok: bool
    description: str
    directive: str | None = None
    reason: str = ""
    diagnostics: list[str] = field(default_factory=list)


@dataclass
class TapRun:
    planned: int | None = None
    assertions: list[Assertion] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    error: str | None = None


def has_pgtap(conn: psycopg.Connection) -> bool:
    row = conn.execute("select 1 from pg_available_extensions where name = 'pgtap'").fetchone()
    return row is not None


def parse(lines: list[str], run: TapRun) -> None:
    for line in lines:
        for part in line.splitlines():
            if m := PLAN_LINE.match(part):
                run.planned = int(m["count"])
            elif m := TAP_LINE.match(part):
                run.assertions.append(
                    Assertion(
                        number=int(m["number"]),
                        ok=m["not"] is None,
                        description=m["description"] or f"assertion {m['number']}",
                        directive=m["directive"],
                        reason=m["reason"] or "",
                    )
                )
            elif part.startswith("#"):
                target = run.assertions[-1].diagnostics if run.assertions else run.diagnostics
                target.append(part)


def run_file(url: str, path: Path) -> TapRun:
    """Execute ``path`` on the database at ``url``, with pgTAP created there in schema ``tap``
    (on the search path) if missing."""
    run = TapRun()
    text = path.read_text()
    parsed = statements(text)
    if parsed is None:
        run.error = f"{path.name}: does not parse"
        return run
    with psycopg.connect(url, autocommit=True) as conn:
        # In a schema of its own, so that pgTAP's functions never count as the app's.
        conn.execute("create schema if not exists tap")
        conn.execute("create extension if not exists pgtap schema tap")
        conn.execute("set search_path = public, tap")
        for line, statement in parsed:
            try:
                cur = conn.execute(statement.encode())
            except psycopg.Error as exc:
                run.error = f"{path.name}:{line}: {exc.diag.message_primary or exc} [SQLSTATE {exc.sqlstate}]"
                return run
            if cur.description:
                parse([str(row[0]) for row in cur.fetchall() if row and row[0] is not None], run)
    return run
