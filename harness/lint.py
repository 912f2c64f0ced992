"""``coachdb lint``: sqlfluff (postgres dialect, the repo's ``.sqlfluff``) over the SQL tree
and the pgTAP files, and plpgsql_check over every plpgsql function, on a throwaway server
that has the extension (Debian's postgresql-15-plpgsql-check). plpgsql_check runs with its
error, other, extra and security warnings; not its performance advice, which would mark
the error-raising helpers immutable and let the planner pre-evaluate them."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg

from harness import ROOT
from harness.databases import DatabaseFactory
from harness.errors import ProviderUnavailable
from harness.providers import get_provider

SQL_PATHS = ("db", "tests/sql", "harness/doctor/lints")

CHECK = """
select p.oid::regprocedure::text, r.lineno, r.level, r.message, r.sqlstate
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang,
lateral plpgsql_check_function_tb(
    p.oid,
    -- a trigger function is checked against a table it fires on (its NEW has that row type)
    case when p.prorettype = 'trigger'::regtype then coalesce(
        (select t.tgrelid from pg_trigger t where t.tgfoid = p.oid order by t.tgrelid limit 1),
        'public.profiles'::regclass
    ) else 0 end,
    other_warnings := true, extra_warnings := true, security_warnings := true, performance_warnings := false
) r
where n.nspname in ('public', 'app_private') and l.lanname = 'plpgsql'
order by 1, 2
"""


def sqlfluff_command() -> list[str]:
    beside = Path(sys.executable).parent / "sqlfluff"
    found = str(beside) if beside.exists() else shutil.which("sqlfluff")
    if not found:
        raise ProviderUnavailable("sqlfluff is not installed (pip install -e '.[test]')")
    return [found, "lint", *SQL_PATHS]


def run_sqlfluff(out: Callable[[str], None]) -> int:
    import subprocess

    result = subprocess.run(sqlfluff_command(), cwd=ROOT, capture_output=True, text=True, check=False)
    findings = [line for line in result.stdout.splitlines() if line.startswith(("==", "L:"))]
    for line in findings:
        out(line)
    return 0 if result.returncode == 0 else max(1, sum(line.startswith("L:") for line in findings))


def plpgsql_check_findings(provider_name: str = "system") -> list[tuple]:
    """Findings of plpgsql_check on the tree, applied to a throwaway server."""
    server = get_provider(provider_name)
    server.start()
    try:
        factory = DatabaseFactory(server)
        url = factory.create_empty("coachdb_lint")
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("select 1 from pg_available_extensions where name = 'plpgsql_check'").fetchone() is None:
                raise ProviderUnavailable(f"plpgsql_check is not installed on the {provider_name} server")
        from harness.loader import apply

        apply(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create extension plpgsql_check")
            return conn.execute(CHECK).fetchall()
    finally:
        server.stop()


def run(out: Callable[[str], None] = print) -> int:
    """Both linters; the number of findings (0 = clean)."""
    total = run_sqlfluff(out)
    out(f"sqlfluff: {'clean' if total == 0 else f'{total} finding(s)'}")
    provider = os.environ.get("COACHDB_LINT_PROVIDER", "system")
    try:
        rows = plpgsql_check_findings(provider)
    except ProviderUnavailable as exc:
        out(f"plpgsql_check: skipped ({exc})")
        return total
    for signature, line, level, message, state in rows:
        out(f"{signature}:{line or '-'}: {level}: {message}" + (f" [{state}]" if state else ""))
    out(f"plpgsql_check: {'clean' if not rows else f'{len(rows)} finding(s)'}")
    return total + len(rows)
