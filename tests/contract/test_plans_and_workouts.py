"""activate_plan, complete_workout and skip_workout: effects, repeats, state conflicts."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import error_of
from tests.payloads import first_workout, onboard


def row(admin, query, *params):
    return admin.execute(query, list(params)).fetchone()


# -- activate_plan ------------------------------------------------------------------------------


def test_activate_plan_switches_the_active_plan(alice, admin):
    first = onboard(alice, "k1")
    second = onboard(alice, "k2")

    response = alice.rpc("activate_plan", plan_id=first["plan_id"])

    assert response == {"plan_id": first["plan_id"], "archived_plan_id": second["plan_id"]}
    assert row(admin, "select status::text from public.plans where id = %s", first["plan_id"]) == ("active",)
    assert row(admin, "select status::text from public.plans where id = %s", second["plan_id"]) == ("archived",)


def test_activating_the_active_plan_changes_nothing(alice, admin):
    first = onboard(alice)
    before = row(admin, "select to_jsonb(p) from public.plans p where id = %s", first["plan_id"])
    assert alice.rpc("activate_plan", plan_id=first["plan_id"]) == {
        "plan_id": first["plan_id"],
        "archived_plan_id": None,
    }
    assert row(admin, "select to_jsonb(p) from public.plans p where id = %s", first["plan_id"]) == before


def test_a_completed_plan_cannot_be_activated(alice, admin):
    first = onboard(alice, "k1")
    onboard(alice, "k2")
    admin.execute("update public.plans set status = 'completed' where id = %s", [first["plan_id"]])
    err = error_of(lambda: alice.rpc("activate_plan", plan_id=first["plan_id"]))
    assert err.sqlstate == "PT409" and "completed plan" in err.diag.message_primary


def test_activate_plan_of_another_user_is_not_found(alice, bob):
    bobs = onboard(bob)
    err_other = error_of(lambda: alice.rpc("activate_plan", plan_id=bobs["plan_id"]))
    err_missing = error_of(lambda: alice.rpc("activate_plan", plan_id=str(uuid.uuid4())))
    assert err_other.sqlstate == err_missing.sqlstate == "PT404"
    assert err_other.diag.message_hint == err_missing.diag.message_hint
    assert err_other.diag.message_primary.replace(bobs["plan_id"], "?") == "plan ? not found"


def test_activate_plan_needs_a_plan_id(alice):
    err = error_of(lambda: alice.rpc("activate_plan", plan_id=None))
    assert err.sqlstate == "22023" and err.diag.message_primary.startswith("plan_id: ")


# -- complete_workout ---------------------------------------------------------------------------


def test_complete_workout_records_results(alice, admin):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    result = {"duration_min": 42, "distance_m": 8000.5, "rpe": 7, "notes": "felt strong"}

    response = alice.rpc("complete_workout", workout_id=workout, result=result)

    assert set(response) == {"workout_id", "status", "completed_at", "replayed"}
    assert (response["workout_id"], response["status"], response["replayed"]) == (workout, "completed", False)
    assert row(admin, "select status::text, result from public.workouts where id = %s", workout) == (
        "completed",
        result,
    )


def test_repeating_complete_workout_changes_nothing_updated_at_included(alice, admin):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    first = alice.rpc("complete_workout", workout_id=workout, result={"rpe": 5})
    before = row(admin, "select to_jsonb(w) from public.workouts w where id = %s", workout)

    again = alice.rpc("complete_workout", workout_id=workout, result={"rpe": 5})

    assert again == {**first, "replayed": True}
    assert row(admin, "select to_jsonb(w) from public.workouts w where id = %s", workout) == before


def test_completing_again_with_other_results_is_pt409(alice):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    alice.rpc("complete_workout", workout_id=workout, result={"rpe": 5})
    err = error_of(lambda: alice.rpc("complete_workout", workout_id=workout, result={"rpe": 6}))
    assert err.sqlstate == "PT409" and err.diag.message_primary.startswith("result: ")


def test_a_skipped_workout_cannot_be_completed(alice):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    alice.rpc("skip_workout", workout_id=workout)
    err = error_of(lambda: alice.rpc("complete_workout", workout_id=workout))
    assert err.sqlstate == "PT409" and "skipped" in err.diag.message_primary


def test_a_workout_of_an_archived_plan_cannot_change(alice):
    old = onboard(alice, "k1")
    onboard(alice, "k2")
    workout = first_workout(alice, old["plan_id"])
    for call in (
        lambda: alice.rpc("complete_workout", workout_id=workout),
        lambda: alice.rpc("skip_workout", workout_id=workout),
    ):
        err = error_of(call)
        assert err.sqlstate == "PT409" and "archived" in err.diag.message_primary


@pytest.mark.parametrize(
    ("result", "field"),
    [
        ({"rpe": 0}, "result.rpe"),
        ({"rpe": 11}, "result.rpe"),
        ({"rpe": 5.5}, "result.rpe"),
        ({"duration_min": -1}, "result.duration_min"),
        ({"duration_min": "long"}, "result.duration_min"),
        ({"distance_m": -3}, "result.distance_m"),
        ({"notes": "x" * 2001}, "result.notes"),
        ({"heart_rate": 150}, "result.heart_rate"),
        ([1], "result"),
    ],
)
def test_complete_workout_bad_result_is_22023_and_writes_nothing(alice, admin, result, field):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    before = row(admin, "select to_jsonb(w) from public.workouts w where id = %s", workout)
    err = error_of(lambda: alice.rpc("complete_workout", workout_id=workout, result=result))
    assert err.sqlstate == "22023" and err.diag.message_primary.startswith(f"{field}: ")
    assert row(admin, "select to_jsonb(w) from public.workouts w where id = %s", workout) == before


def test_workouts_of_another_user_are_not_found(alice, bob):
    workout = first_workout(bob, onboard(bob)["plan_id"])
    onboard(alice)
    for call in (
        lambda: alice.rpc("complete_workout", workout_id=workout),
        lambda: alice.rpc("skip_workout", workout_id=workout),
    ):
        assert error_of(call).sqlstate == "PT404"


# -- skip_workout -------------------------------------------------------------------------------


def test_skip_workout_marks_it_skipped_and_repeats_replay(alice, admin):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    first = alice.rpc("skip_workout", workout_id=workout, reason="sick")
    again = alice.rpc("skip_workout", workout_id=workout, reason="sick")

    assert (first["status"], first["replayed"]) == ("skipped", False)
    assert again == {**first, "replayed": True}
    assert row(admin, "select status::text, skip_reason from public.workouts where id = %s", workout) == (
        "skipped",
        "sick",
    )


def test_skipping_again_for_another_reason_is_pt409(alice):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    alice.rpc("skip_workout", workout_id=workout, reason="sick")
    assert error_of(lambda: alice.rpc("skip_workout", workout_id=workout, reason="busy")).sqlstate == "PT409"


def test_a_completed_workout_cannot_be_skipped(alice):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    alice.rpc("complete_workout", workout_id=workout)
    err = error_of(lambda: alice.rpc("skip_workout", workout_id=workout))
    assert err.sqlstate == "PT409" and "completed" in err.diag.message_primary


def test_skip_reason_is_validated(alice):
    workout = first_workout(alice, onboard(alice)["plan_id"])
    err = error_of(lambda: alice.rpc("skip_workout", workout_id=workout, reason="r" * 501))
    assert err.sqlstate == "22023" and err.diag.message_primary.startswith("reason: ")
