"""Foreign schemas: databases coachdb did not build, each written the way another team would
write it (``<team>/schema.sql``), loaded with duplicates and children (``<team>/data.sql``).
``<team>/expected.json`` says where the seed's bug is and how to read each row's owner."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from harness import SQL_ROOT, cli
from harness.databases import DatabaseFactory
from harness.sqltree import sql_files

HERE = Path(__file__).parent
TEAMS = sorted(p.name for p in HERE.iterdir() if (p / "schema.sql").is_file())
COACHDB = [sys.executable, "-m", "harness.cli"]


@dataclass
class ForeignDatabase:
    team: str
    url: str
    expected: dict

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def counts(self) -> dict[str, int]:
        """Rows per table of the team's schema (the audit schema excluded)."""
        with self.connect() as conn:
            return {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for table in self.tables()}

    def tables(self) -> list[str]:
        return list(self.expected["owners"])

    def owners(self) -> dict[str, dict[str, str]]:
        """Per table: row -> the user who owns it, read through the team's own foreign keys."""
        with self.connect() as conn:
            return {t: dict(conn.execute(q).fetchall()) for t, q in self.expected["owners"].items()}

    def audit(self) -> list[tuple[str, str, dict]]:
        with self.connect() as conn:
            if conn.execute("select to_regclass('coachdb_meta.merged_rows')").fetchone()[0] is None:
                return []
            return conn.execute(
                "select action, table_name, row_data from coachdb_meta.merged_rows order by id"
            ).fetchall()

    def has_schema(self, name: str) -> bool:
        with self.connect() as conn:
            return conn.execute("select 1 from pg_namespace where nspname = %s", [name]).fetchone() is not None

    def doctor(self, *args: str, process: bool = False) -> subprocess.CompletedProcess:
        """``coachdb doctor --url URL *args``: in this process through the CLI's own entry point
        (fast), or with ``process=True`` as a separate ``python -m harness.cli`` (what a user runs)."""
        argv = ["doctor", "--url", self.url, *args]
        if process:
            return subprocess.run([*COACHDB, *argv], capture_output=True, text=True, check=False, cwd=HERE)
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = cli.main(argv)
        return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())

    def doctor_json(self, *args: str, process: bool = False) -> tuple[int, dict]:
        result = self.doctor("--json", *args, process=process)
        assert not result.stderr.strip() or "Traceback" not in result.stderr, result.stderr
        return result.returncode, json.loads(result.stdout)


def load(url: str, team: str, expected: dict) -> None:
    """The stand-in (where the team is on Supabase), the team's schema, then its data."""
    with psycopg.connect(url, autocommit=True) as conn:
        if expected["standin"]:
            for file in sql_files(SQL_ROOT, stages=("standin",)):
                conn.execute(file.text.encode())
        conn.execute((HERE / team / "schema.sql").read_bytes())
        conn.execute((HERE / team / "data.sql").read_bytes())
        conn.execute("analyze")


@pytest.fixture(params=TEAMS)
def foreign(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Iterator[ForeignDatabase]:
    """A fresh database with one team's schema and data."""
    team = request.param
    name = f"coachdb_foreign_{team}_{os.getpid()}"
    expected = json.loads((HERE / team / "expected.json").read_text())
    url = databases.create_empty(name)
    load(url, team, expected)
    yield ForeignDatabase(team, url, expected)
    databases.drop(name)


@pytest.fixture
def make_foreign(databases: DatabaseFactory) -> Iterator:
    """``make_foreign(team, suffix)``: a fresh database of one team, for tests that need several."""
    made: list[str] = []

    def _make(team: str, suffix: str = "x") -> ForeignDatabase:
        name = f"coachdb_foreign_{team}_{suffix}_{os.getpid()}"
        expected = json.loads((HERE / team / "expected.json").read_text())
        url = databases.create_empty(name)
        made.append(name)
        load(url, team, expected)
        return ForeignDatabase(team, url, expected)

    yield _make
    for name in made:
        databases.drop(name)
