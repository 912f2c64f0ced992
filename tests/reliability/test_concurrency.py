"""Concurrency: many connections at once, released together by a barrier. Each user's writes
are serialised inside the functions by a transaction-level advisory lock on the user
(app_private.lock_user), taken before the idempotency lookup: same-key calls queue up and
replay, other keys queue up and archive in turn, and no caller sees 40P01 or 40001."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg

from tests.payloads import onboard, plan, profile

N = 32


def all_at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in parallel threads, released together; exceptions are returned."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_same_key_and_payload_from_32_connections_has_one_effect(make_user, client, admin):
    user = make_user()
    clients = [client(user) for _ in range(N)]

    results = all_at_once(
        [lambda c=c: c.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan()) for c in clients]
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert len({(r["profile_id"], r["plan_id"]) for r in results}) == 1
    assert Counter(r["replayed"] for r in results) == {False: 1, True: N - 1}
    assert admin.execute("select count(*) from public.plans where user_id = %s", [user]).fetchone() == (1,)
    assert admin.execute("select count(*) from public.workouts where user_id = %s", [user]).fetchone() == (12,)


def test_different_keys_from_32_connections_leave_one_active_plan(make_user, client, admin):
    user = make_user()
    clients = [client(user) for _ in range(N)]

    results = all_at_once(
        [
            lambda c=c, i=i: c.rpc("finalize_onboarding", idempotency_key=f"k{i}", profile=profile(), plan=plan())
            for i, c in enumerate(clients)
        ]
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == [], {getattr(e, "sqlstate", type(e).__name__) for e in errors}
    assert all(r["replayed"] is False for r in results)
    statuses = Counter(
        s for (s,) in admin.execute("select status::text from public.plans where user_id = %s", [user]).fetchall()
    )
    assert statuses == {"active": 1, "archived": N - 1}
    assert admin.execute("select count(*) from public.profiles where auth_user_id = %s", [user]).fetchone() == (1,)


def test_same_client_message_id_from_32_connections_is_one_row(make_user, client, admin):
    user = make_user()
    owner = client(user)
    onboard(owner)
    conversation = owner.rpc("start_conversation")["conversation_id"]
    message_id = str(uuid.uuid4())
    clients = [client(user) for _ in range(N)]

    results = all_at_once(
        [
            lambda c=c: c.rpc("post_message", conversation_id=conversation, client_message_id=message_id, content="hi")
            for c in clients
        ]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert len({r["message_id"] for r in results}) == 1
    assert admin.execute("select count(*) from public.messages").fetchone() == (1,)


def test_concurrent_activate_plan_for_two_plans_leaves_one_active(make_user, client, admin):
    user = make_user()
    owner = client(user)
    first = onboard(owner, "k1")["plan_id"]
    second = onboard(owner, "k2")["plan_id"]
    clients = [client(user) for _ in range(N)]

    results = all_at_once(
        [lambda c=c, i=i: c.rpc("activate_plan", plan_id=(first, second)[i % 2]) for i, c in enumerate(clients)]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    active = admin.execute("select id::text from public.plans where user_id = %s and status = 'active'", [user])
    assert len(active.fetchall()) == 1


def test_concurrent_completes_of_one_workout_record_it_once(make_user, client, admin):
    user = make_user()
    owner = client(user)
    plan_id = onboard(owner)["plan_id"]
    workout = admin.execute(
        "select id::text from public.workouts where plan_id = %s order by scheduled_on limit 1", [plan_id]
    ).fetchone()[0]
    before = admin.execute("select xmin::text from public.workouts where id = %s", [workout]).fetchone()
    clients = [client(user) for _ in range(N)]

    results = all_at_once(
        [lambda c=c: c.rpc("complete_workout", workout_id=workout, result={"rpe": 4}) for c in clients]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert Counter(r["replayed"] for r in results) == {False: 1, True: N - 1}
    assert len({r["completed_at"] for r in results}) == 1
    assert admin.execute("select xmin::text from public.workouts where id = %s", [workout]).fetchone() != before


def test_eight_users_onboarding_concurrently_each_end_with_one_active_plan(make_user, client, admin):
    users = [make_user() for _ in range(8)]
    clients = [client(u) for u in users for _ in range(4)]

    results = all_at_once(
        [
            lambda c=c, i=i: c.rpc("finalize_onboarding", idempotency_key=f"k{i % 2}", profile=profile(), plan=plan())
            for i, c in enumerate(clients)
        ]
    )

    assert [r for r in results if isinstance(r, psycopg.Error)] == []
    rows = admin.execute(
        "select user_id, count(*) filter (where status = 'active') from public.plans group by user_id"
    ).fetchall()
    assert sorted(n for _, n in rows) == [1] * len(users)
