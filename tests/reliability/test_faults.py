"""Faults: a backend killed inside finalize_onboarding, a statement timeout inside a call,
and the whole server stopped with ``pg_ctl stop -m immediate`` under load. Held states are
reached through locks the test owns and observed in pg_stat_activity; nothing waits on a
sleep to be "probably" somewhere."""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from harness.context import Client
from harness.databases import DatabaseFactory
from harness.providers import LOCAL_PROVIDERS, get_provider
from tests.payloads import plan, profile

TABLES = ("profiles", "plans", "workouts", "idempotency_keys")


def counts(admin, user) -> dict[str, int]:
    owner = {"profiles": "auth_user_id"}
    return {
        t: admin.execute(f"select count(*) from public.{t} where {owner.get(t, 'user_id')} = %s", [user]).fetchone()[0]
        for t in TABLES
    }


def wait_until_blocked(admin, pid: int, timeout: float = 30) -> None:
    """Poll pg_stat_activity until backend ``pid`` waits on a lock (a condition, not a nap)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute("select wait_event_type from pg_stat_activity where pid = %s", [pid]).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never blocked")


def test_backend_killed_inside_finalize_leaves_nothing_and_a_retry_completes(make_user, client, connect, admin):
    user = make_user()
    victim = Client(connect(user="authenticator"), user)  # direct: the backend to kill is this one
    victim_pid = victim.conn.info.backend_pid
    # Hold the plans table so the call stops after upserting the profile, before its plan.
    holder = connect()
    holder.execute("begin")
    holder.execute("lock table public.plans in share row exclusive mode")

    outcome: list[object] = []
    call = threading.Thread(
        target=lambda: outcome.append(
            _catch(lambda: victim.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan()))
        )
    )
    call.start()
    wait_until_blocked(admin, victim_pid)
    query = admin.execute("select query from pg_stat_activity where pid = %s", [victim_pid]).fetchone()[0]
    assert "finalize_onboarding" in query
    admin.execute("select pg_terminate_backend(%s)", [victim_pid])
    call.join(30)
    holder.execute("rollback")

    assert isinstance(outcome[0], psycopg.OperationalError)
    assert counts(admin, user) == dict.fromkeys(TABLES, 0), "a killed call left something behind"

    retry = client(user).rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan())
    assert retry["replayed"] is False
    assert counts(admin, user) == {"profiles": 1, "plans": 1, "workouts": 12, "idempotency_keys": 1}


def test_statement_timeout_inside_a_call_fails_cleanly(make_user, client, connect, admin):
    user = make_user()
    caller = client(user)
    holder = connect()
    holder.execute("begin")
    holder.execute("lock table public.workouts in share row exclusive mode")
    try:
        with pytest.raises(psycopg.errors.QueryCanceled), caller._request() as conn:
            conn.execute("set local statement_timeout = '200ms'")
            conn.execute(
                "select public.finalize_onboarding('k', %s::jsonb, %s::jsonb)",
                [psycopg.types.json.Jsonb(profile()), psycopg.types.json.Jsonb(plan())],
            )
    finally:
        holder.execute("rollback")
    assert counts(admin, user) == dict.fromkeys(TABLES, 0)
    assert caller.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan())["replayed"] is False


def _catch(call):
    try:
        return call()
    except Exception as exc:
        return exc


# -- the server crashes under load ------------------------------------------------------------


@pytest.fixture
def crash_server(provider):
    """A server of our own to crash (the run's shared server must survive)."""
    if provider.name not in LOCAL_PROVIDERS:
        pytest.skip(f"crashing needs a local cluster; the {provider.name} provider has none")
    own = get_provider(provider.name)
    own.start()
    factory = DatabaseFactory(own)
    factory.build_template()
    yield own, factory.clone("crash")
    own.stop()


@pytest.mark.slow
def test_immediate_shutdown_under_load_loses_no_acknowledged_call(crash_server):
    server, url = crash_server
    with psycopg.connect(url, autocommit=True) as admin:
        users = [
            admin.execute("insert into auth.users (id) values (gen_random_uuid()) returning id").fetchone()[0]
            for _ in range(8)
        ]

    acknowledged: list[tuple[str, uuid.UUID, dict, dict]] = []
    attempted: list[tuple[str, uuid.UUID, dict]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(user: uuid.UUID, seed: int) -> None:
        rng = random.Random(seed)
        conn = psycopg.connect(url, user="authenticator", autocommit=True, prepare_threshold=None)
        me = Client(conn, user)
        conversation = None
        workouts: list[str] = []
        for i in range(10_000):  # bounded; the crash ends it much sooner
            if stop.is_set():
                break
            kind = "onboard" if not workouts or rng.random() < 0.2 else rng.choice(["post", "complete"])
            if kind == "onboard":
                call = {"idempotency_key": f"k{i}", "profile": profile(), "plan": plan(weeks=1)}
                name = "finalize_onboarding"
            elif kind == "post":
                if conversation is None:
                    try:
                        conversation = me.rpc("start_conversation")["conversation_id"]
                    except psycopg.OperationalError:
                        break
                call = {"conversation_id": conversation, "client_message_id": str(uuid.uuid4()), "content": f"m{i}"}
                name = "post_message"
            else:
                call = {"workout_id": rng.choice(workouts), "result": {"rpe": 5}}
                name = "complete_workout"
            with lock:
                attempted.append((name, user, call))
            try:
                response = me.rpc(name, **call)
            except psycopg.OperationalError:
                break  # the server went away: this call is unacknowledged
            except psycopg.Error as exc:
                assert exc.sqlstate == "PT409", exc  # a workout of an archived plan
                continue
            with lock:
                acknowledged.append((name, user, call, response))
            if name == "finalize_onboarding":
                try:
                    rows = me.execute("select id::text from public.workouts where plan_id = %s", [response["plan_id"]])
                except psycopg.OperationalError:
                    break
                workouts = [r[0] for r in rows]
        conn.close()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(worker, u, n) for n, u in enumerate(users)]
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.cluster.stop("immediate")  # a crash: no checkpoint, no goodbye
        stop.set()
        for f in futures:
            f.result(60)

    server.cluster.start()
    server.cluster.wait_ready()
    with psycopg.connect(url, autocommit=True) as admin:
        for name, _user, call, response in acknowledged:
            if name == "finalize_onboarding":
                assert admin.execute(
                    "select count(*) from public.workouts where plan_id = %s", [response["plan_id"]]
                ).fetchone() == (response["workout_count"],)
            elif name == "post_message":
                assert admin.execute(
                    "select content from public.messages where id = %s", [response["message_id"]]
                ).fetchone() == (call["content"],)
            else:
                assert admin.execute(
                    "select status::text from public.workouts where id = %s", [call["workout_id"]]
                ).fetchone() == ("completed",)
        # nothing half-applied: every key has its plan and the plan has all its workouts
        half = admin.execute(
            "select k.key from public.idempotency_keys k"
            " left join public.plans p on p.id = (k.response ->> 'plan_id')::uuid"
            " where k.operation = 'finalize_onboarding' and (p.id is null or"
            " (select count(*) from public.workouts w where w.plan_id = p.id) <> (k.response ->> 'workout_count')::int)"
        ).fetchall()
        assert half == []
        assert admin.execute(
            "select count(*) from (select user_id from public.plans where status = 'active'"
            " group by user_id having count(*) > 1) x"
        ).fetchone() == (0,)

        # retries of the calls that were never acknowledged complete
        done = {(n, u, str(c)) for n, u, c, _ in acknowledged}
        retried = 0
        for name, user, call in attempted:
            if (name, user, str(call)) in done:
                continue
            conn = psycopg.connect(url, user="authenticator", autocommit=True, prepare_threshold=None)
            try:
                Client(conn, user).rpc(name, **call)
            except psycopg.Error as exc:
                assert exc.sqlstate == "PT409", exc
            finally:
                conn.close()
            retried += 1
    print(f"\ncrash: {len(attempted)} calls, {len(acknowledged)} acknowledged and all present, {retried} retried")
    assert len(acknowledged) >= 150
