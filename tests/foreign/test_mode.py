"""Which mode doctor picks, decided by the database alone: coachdb's ledger, or coachdb's
baseline in Supabase's migration ledger (a database deployed by ``supabase db push``) make
it a coachdb database; anything else is any database. A flag forces either."""

from __future__ import annotations

import psycopg

from harness.doctor.mode import GENERIC, TREE, detect
from harness.migrations import baseline


def mode_of(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        return detect(conn).name


def test_a_foreign_database_is_any_database_even_after_a_repair_wrote_its_audit(make_foreign):
    foreign = make_foreign("trainly", "mode")
    assert mode_of(foreign.url) == GENERIC
    foreign.doctor("--fix")
    assert foreign.has_schema("coachdb_meta") and mode_of(foreign.url) == GENERIC


def test_coachdb_baseline_in_supabase_migrations_makes_it_a_coachdb_database(make_foreign):
    foreign = make_foreign("trainly", "pushed")
    with foreign.connect() as conn:
        conn.execute("create schema supabase_migrations")
        conn.execute("create table supabase_migrations.schema_migrations (version text primary key, name text)")
        conn.execute("insert into supabase_migrations.schema_migrations values ('20200101000000', 'theirs')")
    assert mode_of(foreign.url) == GENERIC, "someone else's migrations say nothing"
    with foreign.connect() as conn:
        first = baseline()[0]
        conn.execute("insert into supabase_migrations.schema_migrations values (%s, %s)", [first.version, first.name])
    assert mode_of(foreign.url) == TREE


def test_the_mode_flag_forces_either(make_foreign):
    foreign = make_foreign("coachr", "forced")
    _, generic = foreign.doctor_json("--mode", "generic")
    _, tree = foreign.doctor_json("--mode", "tree", "--no-drift")
    assert generic["mode"] == "any database" and tree["mode"] == "coachdb database"
    assert tree["mode_reason"] == generic["mode_reason"] == "chosen with --mode"
    assert "seed_verification" in {f["name"] for f in tree["findings"]}  # coachdb's signature is not there
