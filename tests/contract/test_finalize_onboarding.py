"""finalize_onboarding's contract: effects, replay, key reuse, archive, identity, bad input."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.payloads import plan, profile

# -- counting what a call wrote ---------------------------------------------------------------

TABLES = ("profiles", "plans", "workouts", "idempotency_keys")


def counts(admin: psycopg.Connection) -> dict[str, int]:
    return {t: admin.execute(f"select count(*) from public.{t}").fetchone()[0] for t in TABLES}


# -- effects ------------------------------------------------------------------------------------


def test_first_call_creates_profile_active_plan_and_workouts(alice, admin):
    response = alice.rpc("finalize_onboarding", idempotency_key="k1", profile=profile(), plan=plan())

    assert set(response) == {"profile_id", "plan_id", "workout_count", "onboarded_at", "replayed"}
    assert response["replayed"] is False
    assert response["workout_count"] == 3 * 4  # days_per_week x weeks, generated
    row = admin.execute(
        "select p.auth_user_id, p.display_name, p.goal::text, p.timezone, p.onboarded_at is not null,"
        " pl.status::text, pl.starts_on::text, pl.weeks, pl.user_id"
        " from public.profiles p join public.plans pl on pl.id = %s where p.id = %s",
        [response["plan_id"], response["profile_id"]],
    ).fetchone()
    assert row == (
        alice.user_id,
        "Alice",
        "endurance",
        "Europe/Paris",
        True,
        "active",
        "2030-01-07",
        4,
        alice.user_id,
    )
    workouts = admin.execute(
        "select count(*), min(scheduled_on)::text, max(scheduled_on)::text, count(distinct scheduled_on)"
        " from public.workouts where plan_id = %s and user_id = %s",
        [response["plan_id"], alice.user_id],
    ).fetchone()
    assert workouts == (12, "2030-01-07", "2030-02-01", 12)


def test_generated_workouts_are_deterministic(alice, bob):
    a = alice.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan())
    b = bob.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan())
    query = "select scheduled_on, kind, title, targets from public.workouts where plan_id = %s order by 1"
    assert alice.execute(query, [a["plan_id"]]) == bob.execute(query, [b["plan_id"]])


def test_given_workouts_are_stored_as_sent(alice, admin):
    workouts = [
        {"scheduled_on": "2030-01-08", "kind": "run", "title": "Easy 5k", "targets": {"distance_m": 5000}},
        {"scheduled_on": "2030-01-10", "kind": "strength"},
    ]
    response = alice.rpc(
        "finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan(weeks=1, workouts=workouts)
    )
    assert response["workout_count"] == 2
    rows = admin.execute(
        "select scheduled_on::text, kind::text, title, targets from public.workouts where plan_id = %s order by 1",
        [response["plan_id"]],
    ).fetchall()
    assert rows == [
        ("2030-01-08", "run", "Easy 5k", {"distance_m": 5000}),
        ("2030-01-10", "strength", "Strength", {}),
    ]


def test_defaults_apply_when_optional_fields_are_absent(alice, admin):
    response = alice.rpc(
        "finalize_onboarding",
        idempotency_key="k",
        profile={"display_name": "A", "goal": "strength", "days_per_week": 2},
    )
    row = admin.execute(
        "select p.experience::text, p.units::text, p.timezone, pl.name, pl.weeks,"
        " pl.starts_on = (now() at time zone 'UTC')::date"
        " from public.profiles p, public.plans pl where p.id = %s and pl.id = %s",
        [response["profile_id"], response["plan_id"]],
    ).fetchone()
    assert row == ("beginner", "metric", "UTC", "Strength plan", 4, True)
    assert response["workout_count"] == 8


# -- idempotency ------------------------------------------------------------------------------


def test_same_key_same_payload_replays(alice, admin):
    first = alice.rpc("finalize_onboarding", idempotency_key="k1", profile=profile(), plan=plan())
    before = counts(admin)

    again = alice.rpc("finalize_onboarding", idempotency_key="k1", profile=profile(), plan=plan())

    assert again == {**first, "replayed": True}
    assert counts(admin) == before


def test_same_key_other_payload_is_refused_with_pt409(alice, admin):
    alice.rpc("finalize_onboarding", idempotency_key="k1", profile=profile(), plan=plan())
    before = counts(admin)

    with pytest.raises(psycopg.Error) as err:
        alice.rpc("finalize_onboarding", idempotency_key="k1", profile=profile(days_per_week=5), plan=plan())

    assert err.value.sqlstate == "PT409"
    assert "idempotency key reused" in err.value.diag.message_primary
    assert counts(admin) == before


def test_same_key_is_independent_between_users(alice, bob):
    a = alice.rpc("finalize_onboarding", idempotency_key="shared", profile=profile(), plan=plan())
    b = bob.rpc("finalize_onboarding", idempotency_key="shared", profile=profile(days_per_week=5), plan=plan())
    assert b["replayed"] is False and b["plan_id"] != a["plan_id"]


def test_second_key_archives_the_previous_plan(alice, admin):
    first = alice.rpc("finalize_onboarding", idempotency_key="k1", profile=profile(), plan=plan())
    second = alice.rpc("finalize_onboarding", idempotency_key="k2", profile=profile(goal="strength"), plan=plan())

    assert second["profile_id"] == first["profile_id"]
    assert second["onboarded_at"] == first["onboarded_at"]
    statuses = dict(
        admin.execute("select id::text, status::text from public.plans where user_id = %s", [alice.user_id]).fetchall()
    )
    assert statuses == {first["plan_id"]: "archived", second["plan_id"]: "active"}
    assert admin.execute(
        "select goal::text from public.profiles where auth_user_id = %s", [alice.user_id]
    ).fetchone() == ("strength",)


# -- identity -----------------------------------------------------------------------------------


def test_no_identity_is_refused_with_42501(client, admin):
    signed_out = client(None, role="authenticated")
    with pytest.raises(psycopg.Error) as err:
        signed_out.rpc("finalize_onboarding", idempotency_key="k", profile=profile())
    assert err.value.sqlstate == "42501"
    assert counts(admin) == dict.fromkeys(TABLES, 0)


def test_unknown_subject_is_refused_with_42501(client, admin):
    ghost = client(uuid.uuid4())
    with pytest.raises(psycopg.Error) as err:
        ghost.rpc("finalize_onboarding", idempotency_key="k", profile=profile())
    assert err.value.sqlstate == "42501"
    assert counts(admin) == dict.fromkeys(TABLES, 0)


def test_malformed_subject_is_refused_with_42501(client):
    bad = client(claims={"sub": "not-a-uuid", "role": "authenticated"})
    with pytest.raises(psycopg.Error) as err:
        bad.rpc("finalize_onboarding", idempotency_key="k", profile=profile())
    assert err.value.sqlstate == "42501"


def test_anon_cannot_execute_it(anon, make_user):
    anon.claims = {"role": "anon", "sub": str(make_user())}
    with pytest.raises(psycopg.Error) as err:
        anon.rpc("finalize_onboarding", idempotency_key="k", profile=profile())
    assert err.value.sqlstate == "42501"


def test_service_role_cannot_onboard_on_a_users_behalf(service):
    with pytest.raises(psycopg.Error) as err:
        service.rpc("finalize_onboarding", idempotency_key="k", profile=profile())
    assert err.value.sqlstate == "42501"


# -- bad input: 22023, the field named, nothing written --------------------------------------------

BAD_INPUTS = [
    # (id, idempotency_key, profile, plan, field named in the message)
    ("key-missing", None, profile(), plan(), "idempotency_key"),
    ("key-empty", "", profile(), plan(), "idempotency_key"),
    ("key-too-long", "k" * 201, profile(), plan(), "idempotency_key"),
    ("profile-missing", "k", None, plan(), "profile"),
    ("profile-not-object", "k", ["a"], plan(), "profile"),
    ("profile-unknown-key", "k", profile(favourite_colour="red"), plan(), "profile.favourite_colour"),
    (
        "name-missing",
        "k",
        {k: v for k, v in profile().items() if k != "display_name"},
        plan(),
        "profile.display_name",
    ),
    ("name-blank", "k", profile(display_name="   "), plan(), "profile.display_name"),
    ("name-too-long", "k", profile(display_name="x" * 81), plan(), "profile.display_name"),
    ("name-wrong-type", "k", profile(display_name=42), plan(), "profile.display_name"),
    ("goal-unknown", "k", profile(goal="bulk"), plan(), "profile.goal"),
    ("goal-missing", "k", {k: v for k, v in profile().items() if k != "goal"}, plan(), "profile.goal"),
    ("experience-unknown", "k", profile(experience="elite"), plan(), "profile.experience"),
    ("days-zero", "k", profile(days_per_week=0), plan(), "profile.days_per_week"),
    ("days-eight", "k", profile(days_per_week=8), plan(), "profile.days_per_week"),
    ("days-fraction", "k", profile(days_per_week=2.5), plan(), "profile.days_per_week"),
    ("days-string", "k", profile(days_per_week="3"), plan(), "profile.days_per_week"),
    ("units-unknown", "k", profile(units="furlongs"), plan(), "profile.units"),
    ("timezone-unknown", "k", profile(timezone="Mars/Olympus"), plan(), "profile.timezone"),
    ("timezone-posix-spec", "k", profile(timezone="UTC+3"), plan(), "profile.timezone"),
    ("metadata-not-object", "k", profile(metadata=[1, 2]), plan(), "profile.metadata"),
    ("plan-not-object", "k", profile(), "weekly", "plan"),
    ("plan-unknown-key", "k", profile(), plan(status="active"), "plan.status"),
    ("plan-name-too-long", "k", profile(), plan(name="n" * 121), "plan.name"),
    ("weeks-zero", "k", profile(), plan(weeks=0), "plan.weeks"),
    ("weeks-53", "k", profile(), plan(weeks=53), "plan.weeks"),
    ("starts-on-not-date", "k", profile(), plan(starts_on="next monday"), "plan.starts_on"),
    ("starts-on-impossible", "k", profile(), plan(starts_on="2030-02-30"), "plan.starts_on"),
    ("starts-on-far", "k", profile(), plan(starts_on="9999-01-01"), "plan.starts_on"),
    ("workouts-not-array", "k", profile(), plan(workouts={"a": 1}), "plan.workouts"),
    ("workout-not-object", "k", profile(), plan(workouts=["run"]), "plan.workouts[0]"),
    (
        "workout-unknown-key",
        "k",
        profile(),
        plan(workouts=[{"scheduled_on": "2030-01-07", "kind": "run", "pace": "fast"}]),
        "plan.workouts[0].pace",
    ),
    (
        "workout-kind-unknown",
        "k",
        profile(),
        plan(workouts=[{"scheduled_on": "2030-01-07", "kind": "yoga"}]),
        "plan.workouts[0].kind",
    ),
    (
        "workout-before-plan",
        "k",
        profile(),
        plan(workouts=[{"scheduled_on": "2030-01-06", "kind": "run"}]),
        "plan.workouts[0].scheduled_on",
    ),
    (
        "workout-after-plan",
        "k",
        profile(),
        plan(weeks=1, workouts=[{"scheduled_on": "2030-01-14", "kind": "run"}]),
        "plan.workouts[0].scheduled_on",
    ),
    (
        "workouts-same-day",
        "k",
        profile(),
        plan(
            workouts=[
                {"scheduled_on": "2030-01-07", "kind": "run"},
                {"scheduled_on": "2030-01-07", "kind": "mobility"},
            ]
        ),
        "plan.workouts[1].scheduled_on",
    ),
    (
        "workout-targets-not-object",
        "k",
        profile(),
        plan(workouts=[{"scheduled_on": "2030-01-07", "kind": "run", "targets": "fast"}]),
        "plan.workouts[0].targets",
    ),
]


@pytest.mark.parametrize(
    ("key", "profile_arg", "plan_arg", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_input_is_22023_naming_the_field_and_writes_nothing(alice, admin, key, profile_arg, plan_arg, field):
    with pytest.raises(psycopg.Error) as err:
        alice.rpc("finalize_onboarding", idempotency_key=key, profile=profile_arg, plan=plan_arg)

    assert err.value.sqlstate == "22023", err.value
    assert err.value.diag.message_primary.startswith(f"{field}: "), err.value.diag.message_primary
    assert err.value.diag.column_name == field
    assert counts(admin) == dict.fromkeys(TABLES, 0)


def test_bad_input_after_onboarding_changes_nothing(alice, admin):
    alice.rpc("finalize_onboarding", idempotency_key="k1", profile=profile(), plan=plan())
    before = admin.execute("select to_jsonb(p) from public.profiles p").fetchall()
    with pytest.raises(psycopg.Error) as err:
        alice.rpc("finalize_onboarding", idempotency_key="k2", profile=profile(display_name=""), plan=plan())
    assert err.value.sqlstate == "22023"
    assert admin.execute("select to_jsonb(p) from public.profiles p").fetchall() == before
