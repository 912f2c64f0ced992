"""The `supabase db push` emulator does what the CLI does: it cuts files into statements by
the CLI's rules, records each file in supabase_migrations.schema_migrations in the CLI's
shape, applies each file with its row in one transaction, and refuses the histories the CLI
refuses, writing nothing."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from harness import builds
from harness.migrations import read_migrations
from harness.supabase_push import PushError, push, split
from tests.helpers import anon_grants


@pytest.mark.parametrize(
    ("text", "statements"),
    [
        ("select 1; select 2;", ["select 1", "select 2"]),
        ("select 'a;b'; select \"x;y\"", ["select 'a;b'", 'select "x;y"']),
        ("-- a comment; still a comment\nselect 1;", ["-- a comment; still a comment\nselect 1"]),
        ("/* one; /* nested; */ two; */ select 1; select 2", ["/* one; /* nested; */ two; */ select 1", "select 2"]),
        ("do $body$ begin perform 1; end $body$; select 2", ["do $body$ begin perform 1; end $body$", "select 2"]),
        (
            "create function f() returns int begin atomic select 1; select 2; end; select 3",
            ["create function f() returns int begin atomic select 1; select 2; end", "select 3"],
        ),
        ("select (1; 2); select 3", ["select (1; 2)", "select 3"]),
        ("select 1;\n\n  ;\n", ["select 1"]),
    ],
)
def test_statements_are_cut_as_the_supabase_cli_cuts_them(text, statements):
    assert split(text) == statements


def test_push_records_every_file_in_the_clis_history_table_and_a_second_push_does_nothing(scratch):
    url = scratch()
    builds.install_standin(url)
    first = push(url)
    second = push(url)

    migrations = read_migrations()
    assert [name.split("_", 1)[0] for name in first.applied] == [m.version for m in migrations]
    assert second.applied == [] and second.already == len(migrations)
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'supabase_migrations' and table_name = 'schema_migrations' order by ordinal_position"
        ).fetchall()
        rows = conn.execute("select version, name, statements from supabase_migrations.schema_migrations order by 1")
        recorded = rows.fetchall()
        key = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint "
            "where conrelid = 'supabase_migrations.schema_migrations'::regclass and contype = 'p'"
        ).fetchone()[0]
    assert columns == [("version", "text"), ("statements", "ARRAY"), ("name", "text")]
    assert key == "PRIMARY KEY (version)"
    assert [(v, n) for v, n, _ in recorded] == [(m.version, m.name) for m in migrations]
    assert all(statements == split(m.text) for (_, _, statements), m in zip(recorded, migrations, strict=True))


def test_a_failing_migration_rolls_back_with_its_history_row(scratch, tree):
    url = scratch()
    builds.install_standin(url)
    push(url, tree.migrations)
    (tree.migrations / "29990101000000_broken.sql").write_text(
        "create table public.half_done (id int);\nselect * from public.no_such_table;\n"
    )
    with pytest.raises(PushError, match=r"29990101000000_broken\.sql: statement 1: .*no_such_table"):
        push(url, tree.migrations)
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass('public.half_done')").fetchone()[0] is None
        assert (
            conn.execute(
                "select count(*) from supabase_migrations.schema_migrations where version = '29990101000000'"
            ).fetchone()[0]
            == 0
        )


def test_push_refuses_a_history_the_cli_refuses_and_writes_nothing(scratch, tree, tmp_path):
    url = scratch()
    builds.install_standin(url)
    push(url, tree.migrations)
    # A file older than the newest applied one, never applied: the CLI refuses it.
    (tree.migrations / "20200101000000_late.sql").write_text("create table public.late (id int);\n")
    with pytest.raises(PushError, match="inserted before the last migration"):
        push(url, tree.migrations)
    # A version the database has and the directory lacks: refused too.
    elsewhere = tmp_path / "fewer"
    shutil.copytree(tree.migrations, elsewhere)
    (elsewhere / "20200101000000_late.sql").unlink()
    sorted(elsewhere.glob("*.sql"))[-1].unlink()
    with pytest.raises(PushError, match="not found in the local migrations directory"):
        push(url, elsewhere)
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass('public.late')").fetchone()[0] is None


def test_push_works_as_a_non_superuser_like_supabase_postgres_and_gives_anon_nothing(scratch, provider):
    """Hosted Supabase's `postgres`, which `supabase db push` connects as, is not a superuser
    (CREATEROLE, BYPASSRLS), and its default privileges hand new public objects to anon."""
    url, role = scratch(), "supa_push_owner"
    builds.install_standin(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f"do $$ begin if not exists (select from pg_roles where rolname = '{role}') then "
            f"create role {role} login createrole bypassrls nosuperuser; end if; end $$"
        )
        dbname = conn.info.dbname
        conn.execute(f"grant create on database {dbname} to {role}")
        conn.execute(f"alter schema public owner to {role}")
        conn.execute(f"grant usage on schema auth to {role}")
        conn.execute(f"grant all on auth.users to {role}")
        for kind in ("tables", "functions", "sequences"):
            conn.execute(
                f"alter default privileges for role {role} in schema public "
                f"grant all on {kind} to anon, authenticated, service_role"
            )

    report = push(provider.url_for(dbname, user=role))

    assert len(report.applied) == len(read_migrations())
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select rolsuper from pg_roles where rolname = %s", [role]).fetchone() == (False,)
        assert anon_grants(conn) == []
