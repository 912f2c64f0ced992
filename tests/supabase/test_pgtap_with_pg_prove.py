"""supabase/tests/*.sql pass when run as `supabase test db` runs them: pgTAP created in schema
extensions, then `pg_prove --ext .pg --ext .sql -r supabase/tests`, against a database loaded
from supabase/migrations the db push way. pgTAP is on the system server only."""

from __future__ import annotations

import os
import shutil
import subprocess

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from harness import ROOT, builds
from harness.pgtap import has_pgtap


def test_supabase_tests_pass_under_pg_prove_on_a_pushed_database(scratch):
    pg_prove = shutil.which("pg_prove")
    if pg_prove is None:
        pytest.skip("pg_prove is not installed (Debian: apt-get install libtap-parser-sourcehandler-pgtap-perl)")
    url = scratch()
    with psycopg.connect(url, autocommit=True) as conn:
        if not has_pgtap(conn):
            pytest.skip("pgTAP is not installed on this server (the system provider has it)")
    builds.from_migrations(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists extensions")
        conn.execute("create extension if not exists pgtap with schema extensions")
    params = conninfo_to_dict(url)
    env = {
        **os.environ,
        "PGHOST": str(params.get("host", "")),
        "PGPORT": str(params.get("port", "")),
        "PGUSER": str(params.get("user", "")),
        "PGDATABASE": str(params["dbname"]),
    }
    if "password" in params:
        env["PGPASSWORD"] = str(params["password"])
    result = subprocess.run(
        [pg_prove, "--ext", ".pg", "--ext", ".sql", "-r", str(ROOT / "supabase" / "tests")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Result: PASS" in result.stdout
    files = sorted(p.name for p in (ROOT / "supabase" / "tests").glob("*.sql"))
    assert files and all(name in result.stdout for name in files)
