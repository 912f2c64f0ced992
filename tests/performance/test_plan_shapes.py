"""Plan shapes of the hot paths, on a generated dataset (2,000 users, 200,000 workouts and
messages, analyzed): index access on the big tables, never a sequential scan, and auth.uid()
evaluated once per statement (an InitPlan) rather than once per row. A policy written
without ``(select ...)`` or a missing index fails here, without a stopwatch."""

from __future__ import annotations

import json

import psycopg
import pytest

from harness.context import request, set_request_context
from harness.generate import bench_conversation, bench_user
from tests.performance.plans import nodes

BIG_TABLES = {"workouts", "messages", "plans", "conversations", "profiles", "idempotency_keys"}


def evaluates_claims(condition: str) -> bool:
    """auth.uid() in a scan's condition: by name, or inlined (it reads the JWT settings)."""
    return "auth.uid()" in condition or "request.jwt" in condition


def explain(url: str, query: str, params: list, user: str) -> dict:
    with psycopg.connect(url, user="authenticator", autocommit=True) as conn, request(conn, user_id=user):
        return conn.execute("explain (format json) " + query, params).fetchone()[0][0]["Plan"]


HOT_READS = {
    "week of workouts": (
        "select * from public.workouts where scheduled_on between current_date and current_date + 6",
        lambda n: [],
        "workouts",
    ),
    "last 20 messages": (
        "select * from public.messages where conversation_id = %s order by created_at desc, id desc limit 20",
        lambda n: [bench_conversation(n)],
        "messages",
    ),
    "profile": ("select * from public.profiles", lambda n: [], "profiles"),
    "plans": ("select * from public.plans", lambda n: [], "plans"),
    "conversations": (
        "select * from public.conversations order by last_message_at desc",
        lambda n: [],
        "conversations",
    ),
}


@pytest.mark.parametrize("name", sorted(HOT_READS))
def test_owner_scoped_reads_use_an_index_and_evaluate_auth_uid_once(dataset, name):
    query, params, table = HOT_READS[name]
    plan = explain(dataset, query, params(7), bench_user(7))
    all_nodes = list(nodes(plan))

    scans = [n for n in all_nodes if n.get("Relation Name") == table]
    assert scans, f"{name}: no scan of {table} in the plan"
    assert all(n["Node Type"] != "Seq Scan" for n in scans), f"{name}: sequential scan on {table}"
    index_access = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}  # a bitmap heap scan reads an index first
    assert any(n["Node Type"] in index_access for n in scans), f"{name}: no index access on {table}"

    initplans = [n for n in all_nodes if n.get("Parent Relationship") == "InitPlan"]
    assert initplans, f"{name}: auth.uid() is not evaluated once per statement (no InitPlan)"
    per_row = [n for n in scans for key in ("Filter", "Index Cond", "Recheck Cond") if evaluates_claims(n.get(key, ""))]
    assert per_row == [], f"{name}: auth.uid() evaluated per row: {per_row}"


def test_a_bare_auth_uid_policy_would_fail_this_test(dataset, connect):
    """The check above is not vacuous: a policy with auth.uid() unwrapped shows up per row."""
    admin = psycopg.connect(dataset, autocommit=True)
    try:
        admin.execute("begin")
        admin.execute('drop policy "users can read their own workouts" on public.workouts')
        admin.execute("create policy bare on public.workouts for select to authenticated using (auth.uid() = user_id)")
        set_request_context(admin, "authenticated", {"sub": bench_user(7), "role": "authenticated"})
        plan = admin.execute(
            "explain (format json) select * from public.workouts where scheduled_on = current_date"
        ).fetchone()[0][0]["Plan"]
    finally:
        admin.execute("rollback")
        admin.close()
    text = json.dumps(plan)
    assert "InitPlan" not in text
    assert any(evaluates_claims(n.get("Index Cond", "") + n.get("Filter", "")) for n in nodes(plan))


def nested_plans(url: str, user: str, call: str, params: list) -> list[dict]:
    """Plans of every statement a function runs, through auto_explain (notices)."""
    plans: list[dict] = []
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select count(*) from pg_available_extensions where name = 'plpgsql'").fetchone() == (0,):
            pytest.skip("no plpgsql")
        try:
            conn.execute("load 'auto_explain'")
        except psycopg.errors.UndefinedFile:
            pytest.skip("auto_explain is not part of this server's build (the pgserver wheel leaves it out)")
        for setting, value in {
            "auto_explain.log_min_duration": "0",
            "auto_explain.log_nested_statements": "on",
            "auto_explain.log_format": "json",
            "auto_explain.log_level": "notice",
        }.items():
            conn.execute(f"set {setting} = '{value}'")
        conn.add_notice_handler(
            lambda diag: (
                plans.append(json.loads(diag.message_primary.split("plan:", 1)[1])["Plan"])
                if "plan:" in (diag.message_primary or "")
                else None
            )
        )
        with conn.transaction(force_rollback=True):
            set_request_context(conn, "authenticated", {"sub": user, "role": "authenticated"})
            conn.execute(call, params)
    return plans


def assert_no_seq_scan_on_big_tables(plans: list[dict]) -> None:
    assert plans, "auto_explain reported no statement"
    seq = [
        n["Relation Name"]
        for p in plans
        for n in nodes(p)
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES
    ]
    assert seq == [], f"sequential scans on {seq}"


def test_get_chat_context_statements_use_indexes(dataset):
    plans = nested_plans(dataset, bench_user(7), "select public.get_chat_context(%s, 20)", [bench_conversation(7)])
    assert_no_seq_scan_on_big_tables(plans)
    touched = {n.get("Relation Name") for p in plans for n in nodes(p)}
    assert {"messages", "workouts", "plans", "profiles", "conversations"} <= touched


def test_finalize_onboarding_statements_use_indexes(dataset):
    plans = nested_plans(
        dataset,
        bench_user(9),
        "select public.finalize_onboarding('plan-shape', %s::jsonb, '{}'::jsonb)",
        [json.dumps({"display_name": "P", "goal": "strength", "days_per_week": 3})],
    )
    assert_no_seq_scan_on_big_tables(plans)
