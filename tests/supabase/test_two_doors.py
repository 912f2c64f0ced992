"""One database, two doors: a database deployed by `supabase db push` is a coachdb database
(apply and doctor recognise it, change nothing, report it clean), and a database `coachdb
apply` built takes later migrations through `db push` without conflict; the two ledgers
never disagree about what is applied.
"""

from __future__ import annotations

import subprocess
import sys

import psycopg

from harness import builds, catalog
from harness.doctor import diagnose
from harness.migrations import read_migrations
from harness.supabase_push import push, remote_versions

LATER = "alter table public.profiles add column bio text;\ncomment on column public.profiles.bio is 'About me.';\n"


def recorded(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return remote_versions(conn)


def test_doctor_finds_nothing_wrong_with_a_push_deployed_database(scratch):
    url = scratch()
    builds.from_migrations(url)
    findings = diagnose(url)
    assert [f for f in findings if f.level in ("ERROR", "WARN")] == []


def test_doctor_names_a_push_deployed_database_as_coachdbs(scratch):
    url = scratch()
    builds.from_migrations(url)
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "doctor", "--url", url], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "coachdb database" in result.stdout.splitlines()[0]


def test_apply_on_a_push_deployed_database_changes_nothing(scratch, catalog_of):
    url = scratch()
    builds.from_migrations(url)
    before, versions = catalog_of(url), recorded(url)
    report = builds.from_apply(url)
    assert report.applied == []
    assert catalog.differences(before, catalog_of(url)) == []
    assert recorded(url) == versions == [m.version for m in read_migrations()]


def test_an_apply_built_database_takes_later_migrations_by_push(scratch, tree, catalog_of):
    url = scratch()
    builds.from_apply(url, tree.root)
    assert recorded(url) == [m.version for m in read_migrations(tree.migrations)], "apply must write push's ledger"
    (tree.migrations / "29990101000000_add_bio.sql").write_text(LATER)
    report = push(url, tree.migrations)
    assert report.applied == ["29990101000000_add_bio.sql"]
    assert "public.profiles.bio" in catalog_of(url)["column"]
    assert recorded(url) == [m.version for m in read_migrations(tree.migrations)]
