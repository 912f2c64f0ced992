"""Doctor and --fix on databases coachdb did not build (tests/foreign/<team>/): doctor names
exactly the seed's bug (the function, its body line, the missing key) and the duplicates in
its way; --fix repairs it keeping every row of every table, owned by the same user, with
every merged-away and re-pointed row in the audit; a second doctor no longer reports it; a
dry run changes nothing at all; --json parses every time."""

from __future__ import annotations

import psycopg

from tests.foreign.conftest import ForeignDatabase

BUG = "on_conflict_without_arbiter"
DUPLICATES = "duplicates_block_unique_constraint"


def body_line(foreign: ForeignDatabase, line: int) -> str:
    with foreign.connect() as conn:
        source = conn.execute("select prosrc from pg_proc where oid = %s::regprocedure", [foreign.expected["function"]])
        return source.fetchone()[0].splitlines()[line - 1]


def catalog_fingerprint(foreign: ForeignDatabase) -> tuple:
    with foreign.connect() as conn:
        return conn.execute(
            "select (select count(*) from pg_namespace), (select count(*) from pg_class),"
            " (select count(*) from pg_constraint), (select count(*) from pg_index where indisvalid)"
        ).fetchone()


def test_doctor_names_exactly_the_seeds_bug(foreign):
    expected = foreign.expected
    code, report = foreign.doctor_json(process=True)

    assert code == report["exit_code"] == 1
    assert report["mode"] == "any database"
    bugs = [f for f in report["findings"] if f["name"] == BUG]
    assert len(bugs) == 1, bugs  # the legitimate upsert (with its arbiter) is not reported
    function, _, line = bugs[0]["object"].rpartition(", line ")
    assert function == expected["function"]
    assert body_line(foreign, int(line)).strip().startswith(expected["insert"])
    assert expected["table"] in bugs[0]["detail"] and expected["key"] in bugs[0]["remediation"]
    duplicates = [f for f in report["findings"] if f["name"] == DUPLICATES]
    assert [f["object"] for f in duplicates] == [f"{expected['table']}.{expected['key']}"]
    n = expected["duplicated_owners"]
    assert duplicates[0]["detail"].startswith(f"{n} key(s) are shared by {2 * n} rows")
    assert not [
        f for f in report["findings"] if f["name"].startswith("drift_") or f["name"] == "missing_unique_constraint"
    ]

    text = foreign.doctor(process=True)
    assert text.returncode == 1
    assert text.stdout.splitlines()[0].startswith("coachdb doctor: any database (")
    assert f"{BUG}: {expected['function']}, line {line}" in text.stdout


def test_dry_run_prints_the_repair_and_changes_nothing(foreign):
    counts, catalog = foreign.counts(), catalog_fingerprint(foreign)

    result = foreign.doctor("--dry-run")

    assert result.returncode == 0, result.stdout
    assert "create unique index concurrently" in result.stdout
    assert f'add constraint "{foreign.expected["key"]}" unique using index' in result.stdout
    assert foreign.counts() == counts and catalog_fingerprint(foreign) == catalog
    assert not foreign.has_schema("coachdb_meta")
    code, report = foreign.doctor_json("--dry-run")
    assert code == 0 and report["repairs"]["statements"] and report["repairs"]["done"] == []


def test_fix_repairs_it_keeping_every_row_with_its_owner(foreign):
    expected, parent = foreign.expected, foreign.expected["table"]
    counts, owners = foreign.counts(), foreign.owners()

    code, report = foreign.doctor_json("--fix")

    assert not [f for f in report["findings"] if f["name"] in (BUG, DUPLICATES, "repair_refused")], report
    assert code == report["exit_code"] and report["repairs"]["done"]
    after, owners_after, audit = foreign.counts(), foreign.owners(), foreign.audit()
    merged = [row for action, table, row in audit if action == "merged"]
    assert table_counts_add_up(counts, after, parent, len(merged))
    assert len(merged) == expected["duplicated_owners"]
    # every other table: the same rows, each owned by the same user as before
    for table in foreign.tables():
        if table != parent:
            assert owners_after[table] == owners[table], table
    # the parent: each row kept, or merged away into the audit in full, with its owner
    pk, owner = expected["primary_key"], expected["owner_column"]
    audited = {str(row[pk]): str(row[owner]) for row in merged}
    assert owners_after[parent].items() <= owners[parent].items()
    assert {**owners_after[parent], **audited} == owners[parent]
    repointed = [(table, row) for action, table, row in audit if action == "repointed"]
    assert repointed and all(table in foreign.tables() for table, _ in repointed)
    with foreign.connect() as conn:
        assert conn.execute(
            "select contype from pg_constraint where conrelid = %s::regclass and conname = %s",
            [parent, expected["key"]],
        ).fetchone() == ("u",)

    code, again = foreign.doctor_json()
    assert not [f for f in again["findings"] if f["name"] in (BUG, DUPLICATES)]
    assert again["mode"] == "any database"
    rerun = foreign.doctor("--fix")
    assert "-- restore" not in rerun.stdout, "a second --fix has nothing left to do"
    assert foreign.counts() == after


def table_counts_add_up(before: dict[str, int], after: dict[str, int], parent: str, merged: int) -> bool:
    return after == {table: n - (merged if table == parent else 0) for table, n in before.items()}


def test_json_parses_on_every_path(foreign):
    for args in ((), ("--dry-run",), ("--mode", "tree"), ("--mode", "generic"), ("--no-drift",)):
        code, report = foreign.doctor_json(*args)
        assert code in (0, 1) and code == report["exit_code"], (args, report)
        assert not [f for f in report["findings"] if f["name"] == "check_skipped" and "drift" in f["object"]]


def test_a_child_unique_key_that_would_break_is_refused_and_named(make_foreign):
    """seedapp's partial unique index "one active plan per profile": the old profile of user 1
    has an active plan too, so moving it to the kept profile would give it two."""
    foreign = make_foreign("seedapp", "collide")
    with foreign.connect() as conn:
        conn.execute(
            "update public.plans set status = 'active' where name = 'Plan 1' and profile_id ="
            " (select id from public.profiles where display_name = 'User 1 (old)')"
        )
    counts = foreign.counts()

    code, report = foreign.doctor_json("--fix")

    refused = [f for f in report["findings"] if f["name"] == "repair_refused"]
    assert code == 1 and len(refused) == 1
    assert refused[0]["object"] == "public.plans.one_active_plan_per_profile"
    assert "nothing was changed" in refused[0]["detail"] and "'status': 'active'" in refused[0]["detail"]
    assert "rerun" in refused[0]["remediation"]
    assert foreign.counts() == counts and not foreign.has_schema("coachdb_meta")

    with foreign.connect() as conn:  # the user resolves the rows, as the remediation says
        conn.execute(
            "update public.plans set status = 'archived' where profile_id ="
            " (select id from public.profiles where display_name = 'User 1 (old)')"
        )
    code, report = foreign.doctor_json("--fix")
    assert not [f for f in report["findings"] if f["name"] in (BUG, DUPLICATES, "repair_refused")]
    assert foreign.counts()["public.plans"] == counts["public.plans"]


def test_a_child_unique_constraint_collision_lists_the_rows(make_foreign):
    """coachr's checkin (member_uuid, day): both copies of owner 1 checked in on one day."""
    foreign = make_foreign("coachr", "checkin")
    with foreign.connect() as conn:
        conn.execute(
            "update app.checkin set day = day - 10 where member_uuid in"
            " (select member_uuid from app.member where owner_id = md5('coachr-owner-1')::uuid"
            "  order by member_uuid limit 1)"
        )
    counts = foreign.counts()

    code, report = foreign.doctor_json("--dry-run")
    refused = [f for f in report["findings"] if f["name"] == "repair_refused"]
    assert code == 1 and [f["object"] for f in refused] == ["app.checkin.checkin_member_day_key"]
    assert refused[0]["detail"].count("'day': '2026-03-0") >= 2
    code, _ = foreign.doctor_json("--fix")
    assert code == 1 and foreign.counts() == counts and not foreign.has_schema("coachdb_meta")


def test_a_child_exclusion_constraint_is_checked_before_anything_changes(make_foreign):
    """coachr's goal_one_primary_per_member is an exclusion constraint (member_uuid with =):
    both copies of owner 1 have a primary goal, so the merge would break it."""
    foreign = make_foreign("coachr", "exclusion")
    with foreign.connect() as conn:
        conn.execute(
            "update app.goal set is_primary = true where label = 'goal 1' and member_uuid in"
            " (select member_uuid from app.member where owner_id = md5('coachr-owner-1')::uuid)"
        )
    counts = foreign.counts()

    code, report = foreign.doctor_json("--dry-run")

    refused = [f for f in report["findings"] if f["name"] == "repair_refused"]
    assert code == 1 and [f["object"] for f in refused] == ["app.goal.goal_one_primary_per_member"]
    assert "'is_primary': True" in refused[0]["detail"]
    code, _ = foreign.doctor_json("--fix")
    assert code == 1 and foreign.counts() == counts and not foreign.has_schema("coachdb_meta")


def test_a_merge_a_child_objects_to_is_rolled_back_whole_and_named(make_foreign):
    """What no pre-check can see (here a trigger that forbids moving a check-in to another
    member) stops the merge inside its one transaction: rolled back whole, reported, and the
    rerun after the cause is gone completes."""
    foreign = make_foreign("coachr", "trigger")
    with foreign.connect() as conn:
        conn.execute(
            "create function app.checkin_stays() returns trigger language plpgsql as $$ begin"
            " if new.member_uuid <> old.member_uuid then"
            " raise exception 'a check-in never changes member' using errcode = 'P0001'; end if;"
            " return new; end $$"
        )
        conn.execute(
            "create trigger checkin_stays before update on app.checkin"
            " for each row execute function app.checkin_stays()"
        )
    counts = foreign.counts()

    code, report = foreign.doctor_json("--fix")

    refused = [f for f in report["findings"] if f["name"] == "repair_refused"]
    assert code == 1 and len(refused) == 1
    assert "a check-in never changes member" in refused[0]["detail"] and "rolled back" in refused[0]["detail"]
    assert foreign.counts() == counts and not foreign.has_schema("coachdb_meta")
    with foreign.connect() as conn:
        assert conn.execute("select to_regclass('app.member_owner_id_unique')").fetchone() == (None,)
        conn.execute("drop trigger checkin_stays on app.checkin")
    code, report = foreign.doctor_json("--fix")
    assert not [f for f in report["findings"] if f["name"] in (BUG, DUPLICATES, "repair_refused")]


def test_no_password_in_any_output(foreign):
    params = psycopg.conninfo.conninfo_to_dict(foreign.url)
    with foreign.connect() as conn:
        conn.execute("create role doctor_reader login password 'hunter2-secret'")
        conn.execute(f'grant connect on database "{params["dbname"]}" to doctor_reader')
    try:
        url = psycopg.conninfo.make_conninfo(foreign.url, user="doctor_reader", password="hunter2-secret")
        reader = ForeignDatabase(foreign.team, url, foreign.expected)
        for args in ((), ("--json",), ("--fix",), ("--json", "--fix")):
            result = reader.doctor(*args, process=True)
            assert "hunter2-secret" not in result.stdout + result.stderr, args
            assert "Traceback" not in result.stdout + result.stderr, args
            assert result.stdout.splitlines()[0].startswith(("coachdb doctor: any database", "{")), result.stdout
            assert "doctor_reader@" in result.stdout
        # a role that may only connect: a report, each check it cannot run skipped with its reason
        code, report = reader.doctor_json()
        assert code in (0, 1) and report["error"] is None and report["mode"] == "any database"
        skipped = [f for f in report["findings"] if f["name"] == "check_skipped"]
        assert skipped and all(f["level"] == "INFO" and " did not run: " in f["detail"] for f in skipped)
        # --fix needs to write: the one case (with no connection) where doctor exits 2
        code, report = reader.doctor_json("--fix")
        assert code == 2 and "lacks a privilege" in report["error"]
    finally:
        with foreign.connect() as conn:
            conn.execute("drop owned by doctor_reader")
            conn.execute("drop role doctor_reader")


def test_an_expression_target_is_checked_against_expression_indexes(make_foreign):
    """ON CONFLICT (lower(email)) needs a unique index on lower(email): reported while it is
    missing (and not "repaired": doctor derives only column keys), silent once it is there."""
    foreign = make_foreign("coachr", "expression")
    with foreign.connect() as conn:
        conn.execute(
            "create function app.invite(p_owner uuid, p_email text) returns void language sql set search_path = app"
            " as $$ insert into member (owner_id, email) values (p_owner, p_email)"
            " on conflict (lower(email)) do nothing $$"
        )
    _, report = foreign.doctor_json("--dry-run")
    assert "member_lower" not in " ".join(report["repairs"]["statements"])
    _, report = foreign.doctor_json()
    invite = [f for f in report["findings"] if f["name"] == BUG and f["object"].startswith("app.invite(")]
    assert len(invite) == 1 and "lower(email)" in invite[0]["detail"]
    with foreign.connect() as conn:
        conn.execute("update app.member set email = member_uuid || email")  # no two alike any more
        conn.execute("create unique index member_email_lower_key on app.member (lower(email))")
    _, report = foreign.doctor_json()
    assert not [f for f in report["findings"] if f["name"] == BUG and f["object"].startswith("app.invite(")]
