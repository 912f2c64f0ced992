"""``coachdb test`` ends with one summary: per server, passed/failed/skipped (with the
reasons for skips), and every pass that could not run here and why."""

from __future__ import annotations

import pytest

from harness import cli
from harness.cli import AUTO_PASSES, PassResult, SuitePass, plan_passes, render_summary
from tests.cli.conftest import run


def test_the_pass_list_is_data_a_new_server_is_one_entry(monkeypatch):
    monkeypatch.setattr(cli, "AUTO_PASSES", (*AUTO_PASSES[:3], SuitePass("postgres 18", "pg18"), *AUTO_PASSES[3:]))
    planned = plan_passes("auto", [])
    assert [p.label for p, _ in planned] == ["embedded", "pg17", "system", "postgres 18", "behind pgbouncer"]
    pg18 = planned[3][0]
    assert pg18.unavailable_reason("pg18") == "unknown provider 'pg18'"


def test_the_pgbouncer_pass_says_why_it_cannot_run(monkeypatch):
    monkeypatch.setattr(cli, "_pgbouncer_missing", lambda: "pgbouncer is not installed (apt-get install pgbouncer)")
    pooled = SuitePass("behind pgbouncer", None, ("--pooler",), needs=lambda: cli._pgbouncer_missing())
    assert pooled.unavailable_reason("embedded") == "pgbouncer is not installed (apt-get install pgbouncer)"
    assert pooled.unavailable_reason(None) == "no server ran before it"


def test_the_summary_counts_every_pass_and_lists_those_that_did_not_run():
    text = render_summary(
        [
            PassResult("embedded", "embedded", counts={"passed": 10, "skipped": 2}, skips=[("pgTAP is missing", 2)]),
            PassResult("system", "system", counts={"passed": 9, "failed": 1}, exit_code=1, seconds=3),
            PassResult("behind pgbouncer", "system", skipped_because="pgbouncer is not installed"),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "=== coachdb test: summary ==="
    assert lines[1].startswith("embedded") and "10 passed, 0 failed, 2 skipped" in lines[1] and lines[1].endswith("ok")
    assert "skipped 2x: pgTAP is missing" in lines[2]
    assert "9 passed, 1 failed, 0 skipped" in lines[3] and "FAILED (pytest exit 1)" in lines[3]
    assert lines[-2:] == ["not run here:", "  behind pgbouncer: pgbouncer is not installed"]


@pytest.mark.slow
def test_coachdb_test_ends_with_the_summary_of_a_real_run(local_provider):
    result = run("test", "--provider", local_provider, "tests/unit/test_context.py", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    summary = result.stdout[result.stdout.index("=== coachdb test: summary ===") :].splitlines()
    assert summary[1].startswith(local_provider) and " passed, 0 failed, 0 skipped" in summary[1]
    assert summary[1].endswith("ok")
