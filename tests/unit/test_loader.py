"""The loader: one order, the migration history as Supabase's CLI keeps it plus coachdb's
ledger, idempotent re-apply, errors as file:line, the stand-in only where the database has no
auth schema of its own, and no superuser needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from harness import ROOT
from harness.errors import LoaderError
from harness.loader import apply, statements, tree_migrations
from harness.sqltree import sql_files
from tests.helpers import anon_grants


@pytest.fixture
def empty_db(databases, request):
    name = f"coachdb_empty_{abs(hash(request.node.nodeid)) % 10**8}"
    url = databases.create_empty(name)
    yield url
    databases.drop(name)


def ledger(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select file, checksum from coachdb_meta.applied_files").fetchall())


def ledger_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select file, checksum, applied_at from coachdb_meta.applied_files order by 1").fetchall()


def test_load_order_is_stage_then_file_name():
    names = [f.name for f in sql_files()]
    stages = [name.split("/")[1] for name in names]
    assert stages == sorted(stages, key=["standin", "schema", "functions", "policies", "seed"].index)
    for stage in set(stages):
        in_stage = [n for n in names if n.split("/")[1] == stage]
        assert in_stage == sorted(in_stage)


def history(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select version, name, statements from supabase_migrations.schema_migrations order by version"
        ).fetchall()


def test_second_apply_changes_nothing(empty_db):
    first = apply(empty_db)
    recorded, migrated = ledger_rows(empty_db), history(empty_db)
    second = apply(empty_db)

    assert first.applied and first.standin == "loaded"
    assert second.applied == [] and second.repaired == [] and second.skipped == []
    assert second.unchanged == [m.label for m in tree_migrations()]
    assert ledger_rows(empty_db) == recorded and history(empty_db) == migrated  # not even a timestamp moved
    assert "db/seed/010_demo_users.sql" not in ledger(empty_db)  # apply never loads demo data


def test_every_migration_is_recorded_as_supabase_db_push_records_it(empty_db):
    apply(empty_db)
    expected = [(m.version, m.name, [text for _, text in statements(m.text)]) for m in tree_migrations()]
    assert history(empty_db) == expected
    with psycopg.connect(empty_db) as conn:  # the CLI's own table shape
        columns = conn.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'supabase_migrations' and table_name = 'schema_migrations' order by 1"
        ).fetchall()
    assert columns == [("name", "text"), ("statements", "ARRAY"), ("version", "text")]


def test_ledger_records_the_standin_and_the_repeatable_files_with_their_checksums(empty_db):
    apply(empty_db)
    expected = {f.name: f.checksum for f in sql_files(stages=("standin", "functions", "policies"))}
    assert ledger(empty_db) == expected


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "db", tmp_path / "db")
    return tmp_path


def test_error_names_file_and_line(empty_db, tree_copy):
    broken = tree_copy / "db" / "schema" / "015_broken.sql"
    broken.write_text("-- a comment\n\ncreate table public.ok (id int);\n\nselect *\nfrom public.no_such_table;\n")

    with pytest.raises(LoaderError) as err:
        apply(empty_db, root=tree_copy)

    assert str(err.value).startswith('db/schema/015_broken.sql:6: relation "public.no_such_table" does not exist')
    with psycopg.connect(empty_db) as conn:  # the failed file left nothing behind
        assert conn.execute("select to_regclass('public.ok')").fetchone()[0] is None


def test_syntax_error_names_file_and_line(empty_db, tree_copy):
    broken = tree_copy / "db" / "schema" / "015_broken.sql"
    broken.write_text("select 1;\n\ncreate tabel oops (id int);\n")
    with pytest.raises(LoaderError, match=r"^db/schema/015_broken.sql:3: syntax error at or near \"tabel\""):
        apply(empty_db, root=tree_copy)


def test_changed_schema_file_without_a_migration_is_drift_that_needs_coachdb_diff(empty_db, tree_copy):
    apply(empty_db, root=tree_copy)
    path = tree_copy / "db" / "schema" / "010_profiles.sql"
    path.write_text(
        path.read_text() + "\nalter table public.profiles add column nickname text;\n"
        "comment on column public.profiles.nickname is 'What friends call the user.';\n"
    )

    report = apply(empty_db, root=tree_copy)

    assert report.applied == []
    [finding] = report.unresolved
    assert (finding.name, finding.object) == ("drift_missing_column", "public.profiles.nickname")
    assert "coachdb diff" in finding.remediation
    with psycopg.connect(empty_db) as conn:  # apply never runs a schema file by itself
        assert conn.execute("select to_regclass('public.profiles')").fetchone()[0] is not None
        assert conn.execute(
            "select count(*) from pg_attribute where attrelid = 'public.profiles'::regclass and attname = 'nickname'"
        ).fetchone() == (0,)


def test_changed_function_file_without_a_migration_is_converged_to_the_tree(empty_db, tree_copy):
    apply(empty_db, root=tree_copy)
    path = tree_copy / "db" / "functions" / "080_export_my_data.sql"
    path.write_text(path.read_text() + "\ncomment on function public.export_my_data() is 'Everything you own.';\n")

    report = apply(empty_db, root=tree_copy)

    assert report.applied == []
    assert report.repaired == ["comment on function public.export_my_data(): changed, restored"]
    checksums = {f.name: f.checksum for f in sql_files(tree_copy, stages=("functions",))}
    name = "db/functions/080_export_my_data.sql"
    assert ledger(empty_db)[name] == checksums[name]  # the ledger says which tree it converged to
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("select obj_description('public.export_my_data()'::regprocedure)").fetchone() == (
            "Everything you own.",
        )


def test_statements_split_with_their_lines():
    text = "-- héllo\ncreate table x (a int);\n\nselect ';', $$ a; b $$;\n"
    assert statements(text) == [(2, "create table x (a int)"), (4, "select ';', $$ a; b $$")]
    assert statements("create tabel x;") is None


def _load_standin_without_ledger(url: str) -> None:
    """Make a database look like hosted Supabase: auth and roles exist, not put there by us."""
    with psycopg.connect(url, autocommit=True) as conn:
        for file in sql_files(stages=("standin",)):
            conn.execute(file.text.encode())


def test_standin_is_skipped_where_auth_already_exists(empty_db):
    _load_standin_without_ledger(empty_db)
    report = apply(empty_db)
    assert report.standin.startswith("skipped")
    assert not any(name.startswith("db/standin/") for name in ledger(empty_db))
    assert apply(empty_db).applied == []


def test_apply_works_as_a_non_superuser_owner_like_supabase_postgres(empty_db, databases):
    """On hosted Supabase `postgres` is not a superuser (CREATEROLE, BYPASSRLS), and default
    privileges hand its new public objects to anon. apply must work as such a role, and
    still leave anon with nothing."""
    role = "supa_owner"
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(
            f"do $$ begin if not exists (select from pg_roles where rolname = '{role}') then "
            f"create role {role} login createrole bypassrls nosuperuser; end if; end $$"
        )
    _load_standin_without_ledger(empty_db)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        dbname = conn.info.dbname
        conn.execute(f"grant create on database {dbname} to {role}")
        conn.execute(f"alter schema public owner to {role}")
        conn.execute(f"grant usage on schema auth to {role}")
        conn.execute(f"grant all on auth.users to {role}")
        conn.execute(f"grant {role} to postgres")
        for kind in ("tables", "functions", "sequences"):
            conn.execute(
                f"alter default privileges for role {role} in schema public "
                f"grant all on {kind} to anon, authenticated, service_role"
            )
    owner_url = databases.provider.url_for(dbname, user=role)

    report = apply(owner_url)

    assert report.applied
    with psycopg.connect(empty_db, autocommit=True) as conn:
        assert conn.execute("select rolsuper from pg_roles where rolname = %s", [role]).fetchone() == (False,)
        owners = conn.execute(
            "select distinct pg_get_userbyid(relowner) from pg_class where relnamespace = 'public'::regnamespace"
        ).fetchall()
        assert owners == [(role,)]
        assert anon_grants(conn) == []
