"""supabase/ is what `coachdb supabase` generates from the tree, and its config.toml is one
the current Supabase CLI accepts: a test fails as soon as either goes stale."""

from __future__ import annotations

import glob
import shutil
import tomllib

import pytest

from harness import ROOT, SQL_ROOT
from harness.errors import HarnessError
from harness.migrations import baseline, read_migrations, rebaseline, write_baseline
from harness.supabase_project import generate, render, stale_files

PROJECT = ROOT / "supabase"


def test_supabase_project_is_what_generation_writes():
    assert stale_files() == [], "supabase/ is stale: run `coachdb supabase` and commit the result"


def test_a_changed_test_file_or_seed_makes_the_project_stale(tmp_path):
    shutil.copytree(ROOT / "tests" / "sql", tmp_path / "sql")
    shutil.copytree(PROJECT, tmp_path / "supabase")
    assert stale_files(tmp_path / "supabase", tests=tmp_path / "sql") == []
    (tmp_path / "sql" / "999_new.sql").write_text("begin;\nselect plan(0);\nrollback;\n")
    (tmp_path / "supabase" / "seed.sql").write_text("-- edited by hand\n")
    assert stale_files(tmp_path / "supabase", tests=tmp_path / "sql") == ["seed.sql", "tests/999_new.sql"]
    written = generate(tmp_path / "supabase", tests=tmp_path / "sql")
    assert written == ["seed.sql", "tests/999_new.sql"]
    assert stale_files(tmp_path / "supabase", tests=tmp_path / "sql") == []


def test_generation_writes_the_baseline_only_into_a_project_without_migrations(tmp_path):
    written = generate(tmp_path / "supabase")
    assert [w for w in written if w.startswith("migrations/")] == [f"migrations/{m.filename}" for m in baseline()]
    (tmp_path / "supabase" / "migrations" / "29990101000000_later.sql").write_text("select 1;\n")
    assert generate(tmp_path / "supabase") == []


def test_config_toml_is_valid_for_the_supabase_cli():
    """The checks the CLI's config loader (pkg/config) makes, on the keys we set."""
    config = tomllib.loads((PROJECT / "config.toml").read_text())
    assert config["project_id"] == "coachdb"
    assert config["db"]["port"] > 0
    assert config["db"]["major_version"] in (13, 14, 15, 17)
    assert config["db"]["major_version"] == 17, "Supabase gives new projects 17"
    assert config["api"]["schemas"][0] == "public" and "app_private" not in config["api"]["schemas"]
    seeds = config["db"]["seed"]["sql_paths"]
    assert config["db"]["seed"]["enabled"] and [(PROJECT / p).resolve() for p in seeds] == [PROJECT / "seed.sql"]
    # Globs are relative to supabase/, as the CLI resolves them; each finds files, in load order.
    found = [sorted(glob.glob(str(PROJECT / p))) for p in config["db"]["migrations"]["schema_paths"]]
    assert all(found) and [f.split("/db/")[1].split("/")[0] for f, *_ in found] == ["schema", "functions", "policies"]


def test_every_pgtap_file_runs_in_its_own_rolled_back_transaction_as_pg_prove_needs():
    for name, text in render().items():
        if name.startswith("tests/"):
            body = [line for line in text.splitlines() if line and not line.startswith("--")]
            assert body[0].startswith("set search_path") and body[1] == "begin;", name
            assert body[-1] == "rollback;", name


def test_the_migrations_are_named_as_the_cli_expects_in_load_order():
    versions = [m.version for m in read_migrations()]
    assert all(len(v) == 14 and v.isdigit() for v in versions)
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_rebaseline_rewrites_the_baseline_but_refuses_once_a_later_migration_exists(tmp_path):
    shutil.copytree(SQL_ROOT / "db", tmp_path / "db")
    migrations = tmp_path / "supabase" / "migrations"
    write_baseline(migrations, tmp_path)
    (tmp_path / "db" / "schema" / "070_extra.sql").write_text("create table public.extra (id int);\n")
    written = rebaseline(migrations, tmp_path)
    assert len(written) == len(baseline()) + 1
    assert "public.extra" in "".join(m.text for m in read_migrations(migrations))
    (migrations / "29990101000000_later.sql").write_text("select 1;\n")
    with pytest.raises(HarnessError, match="came after the baseline"):
        rebaseline(migrations, tmp_path)
