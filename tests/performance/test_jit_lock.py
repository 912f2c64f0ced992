"""The JIT lock, without a stopwatch: no statement an RPC executes is planned above
``jit_above_cost``, and no set-returning function's row estimate is off from the rows it
really returns by orders of magnitude. On every server of the matrix.

Why: on PostgreSQL's defaults (``jit = on``, ``jit_above_cost = 100000``) a statement
planned above the threshold is compiled with LLVM first. ``generated_workouts`` once had its
body estimated at 1,000,000 rows (two ``generate_series`` with non-constant bounds, 1,000
rows each by default) for the 12 it returned: cost 321,700, ~12 ms of compilation in every
sign-up on Debian's PostgreSQL 15, 8.7x the plain-SQL floor.

Every RPC runs once, as PostgREST calls it, on the generated dataset, with auto_explain
reporting every nested statement's plan and real row counts. Where the server's build has
no auto_explain (the pgserver wheel), that part skips and says so; the set-returning
functions' bodies are still explained there, as prepared generic plans.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import psycopg
import pytest

from harness.generate import bench_conversation, bench_user, md5_uuid
from tests.performance.plans import (
    ESTIMATE_FACTOR,
    Statement,
    body_query,
    capture,
    explain_body,
    misestimated,
    over_jit_threshold,
    run_captured,
    set_returning_functions,
)

N = 9  # the bench user every call acts as
USER = bench_user(N)
PROFILE = {"display_name": "Lock", "goal": "race_prep", "days_per_week": 7, "timezone": "Europe/Paris"}
GIVEN_WORKOUTS = [
    {"scheduled_on": f"2030-01-{day:02d}", "kind": "run", "title": "Run", "targets": {"duration_min": 30}}
    for day in range(7, 21)
]

#: One call per RPC: (role, SQL, parameters from the ids of the user's rows).
CALLS: dict[str, tuple[str, str, Callable[[dict], list]]] = {
    "finalize_onboarding, generated workouts": (
        "authenticated",
        "select public.finalize_onboarding('jit-lock', %s::jsonb, %s::jsonb)",
        lambda ids: [json.dumps(PROFILE), json.dumps({"weeks": 52})],
    ),
    "finalize_onboarding, given workouts": (
        "authenticated",
        "select public.finalize_onboarding('jit-lock', %s::jsonb, %s::jsonb)",
        lambda ids: [json.dumps(PROFILE), json.dumps({"starts_on": "2030-01-07", "workouts": GIVEN_WORKOUTS})],
    ),
    "activate_plan": ("authenticated", "select public.activate_plan(%s)", lambda ids: [ids["archived_plan"]]),
    "complete_workout": (
        "authenticated",
        "select public.complete_workout(%s, %s::jsonb)",
        lambda ids: [ids["workout"], json.dumps({"duration_min": 42, "rpe": 6})],
    ),
    "skip_workout": ("authenticated", "select public.skip_workout(%s, 'travel')", lambda ids: [ids["workout"]]),
    "start_conversation": ("authenticated", "select public.start_conversation('Lock', %s)", lambda ids: [ids["plan"]]),
    "post_message": (
        "authenticated",
        "select public.post_message(%s, %s, 'How far this week?')",
        lambda ids: [ids["conversation"], "00000000-0000-4000-8000-00000000a11c"],
    ),
    "record_assistant_message": (
        "service_role",
        "select public.record_assistant_message(%s, 'Ten kilometres.')",
        lambda ids: [ids["conversation"]],
    ),
    "get_chat_context": ("authenticated", "select public.get_chat_context(%s, 20)", lambda ids: [ids["conversation"]]),
    "export_my_data": ("authenticated", "select public.export_my_data()", lambda ids: []),
    "purge_idempotency_keys": ("service_role", "select public.purge_idempotency_keys('1 second')", lambda ids: []),
}

#: A representative call of each set-returning function of the app, for its body's plan.
SRF_SAMPLES: dict[str, list] = {
    "app_private.generated_workouts(fitness_goal,integer,integer,date)": ["endurance", 3, 4, "2030-01-07"],
}


@pytest.fixture(scope="module")
def ids(dataset: str) -> dict[str, str]:
    """The ids of user N's rows the calls act on."""
    with psycopg.connect(dataset, autocommit=True) as conn:
        plan = md5_uuid(f"coachdb-bench-plan-{N}-2")
        workout = conn.execute(
            "select id from public.workouts where user_id = %s and plan_id = %s and status = 'scheduled' limit 1",
            [USER, plan],
        ).fetchone()[0]
    return {
        "plan": plan,
        "archived_plan": md5_uuid(f"coachdb-bench-plan-{N}-1"),
        "workout": str(workout),
        "conversation": bench_conversation(N),
    }


@pytest.fixture(scope="module")
def explained(dataset: str) -> Iterator[tuple[psycopg.Connection, list[Statement]]]:
    """A superuser connection whose every statement (nested ones too) reports its plan."""
    with psycopg.connect(dataset, autocommit=True) as conn:
        try:
            statements = capture(conn)
        except psycopg.errors.UndefinedFile:
            pytest.skip(
                "auto_explain is not part of this server's build (the pgserver wheel leaves it out); "
                "the same SQL is locked on the servers that have it (pg17, system)"
            )
        yield conn, statements


def jit_above_cost(conn: psycopg.Connection) -> float:
    return float(conn.execute("select current_setting('jit_above_cost')").fetchone()[0])


@pytest.mark.parametrize("name", list(CALLS))
def test_no_statement_an_rpc_executes_is_planned_above_jit_above_cost(name, explained, ids):
    conn, statements = explained
    role, call, params = CALLS[name]
    ran = run_captured(conn, statements, role, {"sub": USER, "role": role}, call, params(ids))
    assert len(ran) > 1, f"{name}: auto_explain saw no nested statement"
    assert over_jit_threshold(ran, jit_above_cost(conn)) == []


@pytest.mark.parametrize("name", list(CALLS))
def test_no_set_returning_function_an_rpc_runs_is_misestimated(name, explained, ids):
    conn, statements = explained
    role, call, params = CALLS[name]
    ran = run_captured(conn, statements, role, {"sub": USER, "role": role}, call, params(ids))
    assert misestimated(ran) == [], f"row estimates off by more than {ESTIMATE_FACTOR}x"


def test_every_rpc_is_in_the_lock(dataset):
    """A new RPC fails here until it has a call above."""
    with psycopg.connect(dataset, autocommit=True) as conn:
        rpcs = {
            row[0]
            for row in conn.execute(
                "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = 'public' and p.prokind = 'f'"
            ).fetchall()
        }
    assert rpcs == {name.split(",")[0] for name in CALLS}


def test_every_set_returning_function_body_is_planned_near_its_real_rows(dataset):
    """On every server (no auto_explain needed): each SRF's body as a generic plan, executed."""
    with psycopg.connect(dataset, autocommit=True) as conn:
        functions = set_returning_functions(conn)
        assert set(functions) == set(SRF_SAMPLES), "give every set-returning function a sample call in SRF_SAMPLES"
        for signature, (language, definition, names, types) in functions.items():
            query = body_query(language, definition)
            statement = explain_body(conn, query, names, types, SRF_SAMPLES[signature])
            assert over_jit_threshold([statement], jit_above_cost(conn)) == [], signature
            assert misestimated([statement]) == [], signature
            placeholders = ", ".join(["%s"] * len(types))
            call = conn.execute(
                f"explain (analyze, timing off, format json) select * from {signature.split('(')[0]}({placeholders})",
                SRF_SAMPLES[signature],
            ).fetchone()[0][0]["Plan"]
            assert misestimated([Statement(signature, call)]) == [], f"{signature}: its rows clause"


UNBOUNDED_BODY = """
create or replace function app_private.generated_workouts(
    p_goal public.fitness_goal, p_days_per_week int, p_weeks int, p_starts_on date
) returns table (scheduled_on date, kind public.workout_kind, title text, targets jsonb)
language sql immutable set search_path = '' as $$
    select p_starts_on + (w.n * 7 + (s.n * 7) / p_days_per_week), 'run'::public.workout_kind,
        'Run'::text, '{}'::jsonb
    from pg_catalog.generate_series(0, p_weeks - 1) as w (n),
        pg_catalog.generate_series(0, p_days_per_week - 1) as s (n)
    order by 1
$$
"""


def test_the_lock_catches_the_unbounded_series_it_was_written_for(dataset):
    """Not vacuous: the body as it was (series bounded by arguments) fails both checks."""
    with psycopg.connect(dataset, autocommit=True) as conn, conn.transaction(force_rollback=True):
        conn.execute(UNBOUNDED_BODY)
        signature = next(iter(SRF_SAMPLES))
        language, definition, names, types = set_returning_functions(conn)[signature]
        statement = explain_body(conn, body_query(language, definition), names, types, SRF_SAMPLES[signature])
        assert over_jit_threshold([statement], jit_above_cost(conn)), "the old body's cost went unnoticed"
        assert misestimated([statement]), "the old body's 1,000-row series went unnoticed"
