"""The commands as a user runs them: `coachdb supabase --check`, `coachdb push`, `coachdb diff`;
a bad argument is one line naming it and exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from harness import ROOT, builds
from harness.migrations import read_migrations


def coachdb(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COACHDB_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )


def test_supabase_check_says_the_project_is_up_to_date():
    result = coachdb("supabase", "--check")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "supabase/ is up to date"


def test_push_applies_the_migrations_once_as_db_push_does(scratch):
    url = scratch()
    builds.install_standin(url)
    first, second = coachdb("push", "--url", url), coachdb("push", "--url", url)
    count = len(read_migrations())
    assert first.returncode == 0, first.stderr
    assert f"{count} migration(s) pushed, 0 already applied" in first.stdout
    assert "Applying migration 20261125000100_schema_000_schemas.sql..." in first.stdout
    assert second.stdout.strip() == f"0 migration(s) pushed, {count} already applied"


def test_bad_arguments_are_one_line_naming_the_argument():
    for args, field in [
        (("push",), "--url"),
        (("diff", "--name", "Add Bio"), "--name"),
        (("diff", "--name", "x", "--rename", "plans.name"), "--rename"),
    ]:
        result = coachdb(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("coachdb: error: ") and field in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
