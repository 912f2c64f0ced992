"""coachdb doctor and the live repair, on the seed's broken database: the tree applied, then
the arbiter dropped and duplicate profiles inserted for users who have plans, workouts and
messages. Doctor must name finalize_onboarding and the missing constraint; the repair must
restore it without losing a row; doctor must then be clean."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import psycopg
import pytest

from harness.doctor import diagnose
from harness.repair import run_repairs
from tests.payloads import onboard

COACHDB = [sys.executable, "-m", "harness.cli"]
CHILD_TABLES = ("plans", "workouts", "conversations", "messages")


def names(findings) -> set[str]:
    return {f.name for f in findings}


def counts(admin) -> dict[str, int]:
    return {t: admin.execute(f"select count(*) from public.{t}").fetchone()[0] for t in CHILD_TABLES}


@pytest.fixture
def seed_broken(alice, bob, admin, db_url):
    """The production database of the seed: onboarded users, then the arbiter gone and each
    user with a second, older profile row."""
    for user in (alice, bob):
        plan = onboard(user)
        conversation = user.rpc("start_conversation", plan_id=plan["plan_id"])["conversation_id"]
        user.rpc(
            "post_message",
            conversation_id=conversation,
            client_message_id=str(uuid.uuid4()),
            content="hi",
        )
    admin.execute("alter table public.profiles drop constraint profiles_auth_user_id_unique")
    for user in (alice, bob):
        admin.execute(
            "insert into public.profiles (auth_user_id, display_name, goal, days_per_week, updated_at)"
            " values (%s, 'Old me', 'weight_loss', 2, now() - interval '1 day')",
            [user.user_id],
        )
    return db_url


def test_doctor_finds_the_missing_arbiter_and_the_duplicates(seed_broken):
    findings = diagnose(seed_broken)

    arbiter = [f for f in findings if f.name == "on_conflict_without_arbiter"]
    assert len(arbiter) == 1 and arbiter[0].level == "ERROR"
    assert arbiter[0].object.startswith("app_private.finalize_onboarding(")
    assert "line " in arbiter[0].object
    assert "profiles_auth_user_id_unique" in arbiter[0].detail
    duplicates = [f for f in findings if f.name == "duplicates_block_unique_constraint"]
    assert len(duplicates) == 1 and "2 key(s) are shared by 4 rows" in duplicates[0].detail
    assert "missing_unique_constraint" in names(findings)


def test_doctor_cli_exits_nonzero_and_names_function_and_constraint(seed_broken):
    result = subprocess.run([*COACHDB, "doctor", "--url", seed_broken], capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0].startswith("coachdb doctor: coachdb database (")
    assert "finalize_onboarding" in result.stdout and "profiles_auth_user_id_unique" in result.stdout
    as_json = subprocess.run(
        [*COACHDB, "doctor", "--url", seed_broken, "--json", "--no-drift"], capture_output=True, text=True, check=False
    )
    parsed = json.loads(as_json.stdout)
    assert as_json.returncode == parsed["exit_code"] == 1
    assert parsed["mode"] == "coachdb database"
    assert {"name", "level", "object", "detail", "remediation"} == set(parsed["findings"][0])


def test_dry_run_prints_the_exact_sql_and_changes_nothing(seed_broken, admin):
    before = admin.execute("select count(*) from public.profiles").fetchone()
    result = subprocess.run(
        [*COACHDB, "doctor", "--url", seed_broken, "--dry-run"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "create unique index concurrently" in result.stdout
    assert 'add constraint "profiles_auth_user_id_unique" unique using index' in result.stdout
    assert admin.execute("select count(*) from public.profiles").fetchone() == before


def test_repair_restores_the_constraint_without_losing_a_row(seed_broken, admin, alice):
    children = counts(admin)
    doomed = admin.execute("select to_jsonb(p) from public.profiles p where display_name = 'Old me'").fetchall()

    result = subprocess.run(
        [*COACHDB, "doctor", "--url", seed_broken, "--fix"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no findings" in result.stdout
    assert counts(admin) == children
    assert admin.execute("select count(*), count(distinct auth_user_id) from public.profiles").fetchone() == (2, 2)
    audit = admin.execute(
        "select row_data from coachdb_meta.merged_rows where action = 'merged' order by row_data ->> 'id'"
    ).fetchall()
    assert sorted(r[0]["id"] for r in audit) == sorted(r[0]["id"] for r in doomed)
    assert all(r[0]["display_name"] == "Old me" for r in audit), "the older row is the one merged away"
    assert admin.execute(
        "select contype from pg_constraint where conname = 'profiles_auth_user_id_unique'"
    ).fetchone() == ("u",)
    # sign-up works again
    assert (
        alice.rpc(
            "finalize_onboarding",
            idempotency_key="after",
            profile={"display_name": "A", "goal": "strength", "days_per_week": 2},
        )["replayed"]
        is False
    )


def test_repair_is_idempotent_and_recovers_from_an_interrupted_build(seed_broken, admin):
    # an interrupted earlier attempt: a concurrent build that failed on the duplicates
    with pytest.raises(psycopg.errors.UniqueViolation):
        admin.execute("create unique index concurrently profiles_auth_user_id_unique on public.profiles (auth_user_id)")
    assert admin.execute(
        "select indisvalid from pg_index where indexrelid = 'public.profiles_auth_user_id_unique'::regclass"
    ).fetchone() == (False,)

    assert run_repairs(seed_broken, out=lambda _: None) == 1
    assert run_repairs(seed_broken, out=lambda _: None) == 0
    assert "ERROR" not in {f.level for f in diagnose(seed_broken, with_drift=False)}


def test_apply_repairs_a_live_database_too(seed_broken, admin):
    result = subprocess.run([*COACHDB, "apply", "--url", seed_broken], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "1 missing unique key(s) restored" in result.stdout
    assert admin.execute(
        "select count(*) from pg_constraint where conname = 'profiles_auth_user_id_unique'"
    ).fetchone() == (1,)


def test_shipped_schema_is_clean(db_url):
    assert diagnose(db_url) == []


def test_a_coachdb_database_is_recognised_and_either_mode_can_be_forced(db_url):
    from harness.doctor import examine

    assert examine(db_url, with_drift=False).mode.title == "coachdb database"
    generic = examine(db_url, mode="generic")
    assert generic.mode.title == "any database" and generic.mode.reason == "chosen with --mode"
    assert not {f.name for f in generic.findings} & {"seed_verification", "missing_unique_constraint"}
    assert not [f for f in generic.findings if f.name.startswith("drift_")]


def test_doctor_without_a_server_is_one_clear_line():
    from harness.providers.local import free_port

    url = f"postgresql://postgres:sekrit-pw@127.0.0.1:{free_port()}/x"
    result = subprocess.run([*COACHDB, "doctor", "--url", url], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("coachdb: error: cannot reach postgres@127.0.0.1:")
    assert "Traceback" not in result.stdout + result.stderr
    assert "sekrit-pw" not in result.stdout + result.stderr
    as_json = subprocess.run([*COACHDB, "doctor", "--url", url, "--json"], capture_output=True, text=True, check=False)
    parsed = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and parsed["exit_code"] == 2 and "cannot reach" in parsed["error"]
    assert "sekrit-pw" not in as_json.stdout
