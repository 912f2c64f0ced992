"""One history for both tools: a database whose only ledger is the one ``coachdb apply``
kept before migrations (``coachdb_meta.applied_files`` with ``db/schema/...`` rows) has its
files counted as their baseline migrations and the Supabase rows written for them; a
database deployed the way ``supabase db push`` deploys is recognised as coachdb's."""

from __future__ import annotations

import psycopg

from harness.execute import statements
from harness.loader import apply, tree_migrations, tree_mode
from harness.migrations import baseline
from harness.sqltree import sql_files


def versions(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations order by 1")]


def test_a_database_with_only_the_old_ledger_is_backfilled_not_rebuilt(db_url, admin):
    admin.execute("drop schema supabase_migrations cascade")
    for file in sql_files(stages=("schema",)):  # what apply recorded before migrations existed
        admin.execute(
            "insert into coachdb_meta.applied_files (file, checksum) values (%s, %s)", [file.name, file.checksum]
        )

    report = apply(db_url)

    # the baseline is recorded, not rebuilt; the migrations written after it are applied
    # (each is re-runnable, so a database already at the tree takes them without harm)
    first = {m.version for m in baseline()}
    later = [m.label for m in tree_migrations() if m.version not in first]
    assert report.applied == later and report.repaired == [] and report.unresolved == []
    assert len(report.backfilled) == len(first)
    assert versions(admin) == [m.version for m in tree_migrations()]
    assert apply(db_url).backfilled == []


def test_a_database_deployed_by_db_push_is_recognised_and_takes_nothing_twice(empty_db):
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for file in sql_files(stages=("standin",)):  # Supabase's own auth, not ours
            conn.execute(file.text.encode())
        conn.execute(
            "create schema supabase_migrations;"
            " create table supabase_migrations.schema_migrations (version text not null primary key);"
            " alter table supabase_migrations.schema_migrations add column statements text[];"
            " alter table supabase_migrations.schema_migrations add column name text;"
        )
        for m in tree_migrations():  # one transaction per migration, with its row: db push's shape
            with conn.transaction():
                parsed = [text for _, text in statements(m.text)]
                for text in parsed:
                    conn.execute(text.encode())
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)",
                    [m.version, m.name, parsed],
                )
        assert tree_mode(conn)

    report = apply(empty_db)

    assert report.applied == [] and report.unresolved == [] and report.repaired == []
    assert report.standin.startswith("skipped")
