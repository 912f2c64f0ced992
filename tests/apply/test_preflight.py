"""All or nothing on a database coachdb did not build: when the tree would create objects
that exist already (another team's ``profiles`` table, their own ``finalize_onboarding``),
apply refuses with the list and writes nothing: not its ledger, not the stand-in, not a
schema. ``--dry-run`` prints the plan and writes nothing either."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from harness.loader import PreflightError, apply

COACHDB = [sys.executable, "-m", "harness.cli"]

FOREIGN = """
create table public.profiles (id bigserial primary key, email text not null unique, full_name text);
insert into public.profiles (email, full_name) values ('a@example.test', 'Ada'), ('b@example.test', 'Bo');
create table public.orders (id bigserial primary key, profile_id bigint references public.profiles (id), total int);
insert into public.orders (profile_id, total) values (1, 10), (1, 20), (2, 5);
create function public.finalize_onboarding(idempotency_key text, profile jsonb, plan jsonb)
returns jsonb language sql as $$ select '{"theirs": true}'::jsonb $$;
"""

CATALOG = """
select 'relation', format('%I.%I %s', n.nspname, c.relname, c.relkind) from pg_class c
join pg_namespace n on n.oid = c.relnamespace where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
union all select 'schema', nspname from pg_namespace
union all select 'function', p.oid::regprocedure::text || md5(p.prosrc) from pg_proc p
where p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
union all select 'type', t.oid::regtype::text from pg_type t
where t.typnamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)
union all select 'acl', c.oid::regclass || coalesce(c.relacl::text, '') from pg_class c
where c.relnamespace = 'public'::regnamespace
order by 1, 2
"""


def state(url: str) -> tuple[list, list, list]:
    with psycopg.connect(url) as conn:
        return (
            conn.execute(CATALOG).fetchall(),
            conn.execute("select * from public.profiles order by id").fetchall(),
            conn.execute("select * from public.orders order by id").fetchall(),
        )


@pytest.fixture
def foreign_db(empty_db):
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(FOREIGN)
    return empty_db


def test_a_foreign_database_is_refused_and_left_exactly_as_it_was(foreign_db):
    before = state(foreign_db)

    with pytest.raises(PreflightError) as err:
        apply(foreign_db)

    message = str(err.value)
    assert message.startswith("refused, nothing written")
    assert "table public.profiles" in message
    assert "function public.finalize_onboarding(text, jsonb, jsonb)" in message
    assert state(foreign_db) == before
    with psycopg.connect(foreign_db) as conn:
        assert conn.execute(
            "select count(*) from pg_namespace where nspname in"
            " ('coachdb_meta', 'supabase_migrations', 'app_private', 'auth')"
        ).fetchone() == (0,)


def test_the_cli_refuses_in_one_line_and_a_second_try_refuses_the_same_way(foreign_db):
    before = state(foreign_db)
    for _ in range(2):
        result = subprocess.run([*COACHDB, "apply", "--url", foreign_db], capture_output=True, text=True, check=False)
        assert result.returncode == 2
        assert result.stderr.startswith("coachdb: error: refused, nothing written")
        assert "Traceback" not in result.stderr
    assert state(foreign_db) == before


def test_dry_run_prints_the_plan_and_changes_nothing(empty_db):
    with psycopg.connect(empty_db) as conn:
        before = conn.execute(CATALOG.replace("public.profiles", "public.x")).fetchall()

    result = subprocess.run(
        [*COACHDB, "apply", "--url", empty_db, "--dry-run"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "migration  supabase/migrations/20261125000500_schema_010_profiles.sql" in result.stdout
    assert "creates: table public.profiles" in result.stdout
    assert "lock: AccessExclusiveLock on public.conversations, public.idempotency_keys" in result.stdout
    assert result.stdout.rstrip().endswith("dry run: nothing was changed")
    with psycopg.connect(empty_db) as conn:
        assert conn.execute(CATALOG.replace("public.profiles", "public.x")).fetchall() == before


def test_dry_run_on_a_drifted_coachdb_database_lists_the_repairs_and_changes_nothing(db_url, admin):
    admin.execute("grant select on public.plans to anon")
    report = apply(db_url, dry_run=True)
    rendered = report.plan.render()
    assert "privileges on table public.plans: revoked anon:select" in rendered
    assert admin.execute("select has_table_privilege('anon', 'public.plans', 'select')").fetchone() == (True,)
