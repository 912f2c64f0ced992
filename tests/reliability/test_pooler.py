"""Behind a transaction-mode pooler (pgbouncer, one server connection), consecutive
transactions of different clients share one backend. Nothing of one request may reach the
next: not the role, not the claims, not the rows."""

from __future__ import annotations

import random
import threading
import uuid

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from harness.context import Client
from harness.errors import ProviderUnavailable
from harness.pooler import Pgbouncer
from tests.payloads import onboard


@pytest.fixture
def bouncer(db_url):
    try:
        pool = Pgbouncer(db_url, pool_size=1)
        pool.start()
    except ProviderUnavailable as exc:
        pytest.skip(str(exc))
    yield pool
    pool.stop()


@pytest.fixture
def pooled(bouncer, db_url):
    opened = []

    def _client(user_id=None, role="authenticated", **kwargs):
        url = bouncer.url(conninfo_to_dict(db_url)["dbname"], user="authenticator")
        conn = psycopg.connect(url, autocommit=True, prepare_threshold=None)
        opened.append(conn)
        return Client(conn, user_id, role, **kwargs)

    yield _client
    for conn in opened:
        conn.close()


def test_consecutive_users_share_a_backend_but_nothing_else(pooled, make_user):
    a, b = pooled(make_user()), pooled(make_user())
    onboard(a)
    onboard(b)
    signed_out = pooled(None)

    pid_a = a.execute("select pg_backend_pid()")[0][0]
    seen_by_b = b.execute(
        "select pg_backend_pid(), current_setting('request.jwt.claims', true), auth.uid(), current_user"
    )[0]
    assert seen_by_b[0] == pid_a, "the pooler did not reuse the backend; the test proves nothing"
    assert str(a.user_id) not in seen_by_b[1]
    assert seen_by_b[2:] == (b.user_id, "authenticated")
    assert {r[0] for r in b.execute("select user_id from public.plans")} == {b.user_id}

    # a transaction with no claims at all, right after A's on the same backend
    a.execute("select 1")
    bare = signed_out.conn
    assert bare.execute("select current_user, current_setting('request.jwt.claims', true)").fetchone() in (
        ("authenticator", ""),
        ("authenticator", None),
    )
    with pytest.raises(psycopg.Error) as err:
        signed_out.rpc("export_my_data")
    assert err.value.sqlstate == "42501"


def test_mixed_two_user_load_through_the_pooler_never_crosses_users(pooled, make_user, admin):
    users = [make_user(), make_user()]
    clients = {u: [pooled(u) for _ in range(4)] for u in users}
    for u in users:
        onboard(clients[u][0])
        clients[u][0].rpc("start_conversation", title="t")
    leaks: list[str] = []
    calls = {"n": 0}
    lock = threading.Lock()

    def work(me: Client, seed: int) -> None:
        rng = random.Random(seed)
        conversation = me.execute("select id::text from public.conversations")[0][0]
        for i in range(40):
            action = rng.choice(["read", "post", "export", "onboard"])
            if action == "read":
                owners = {r[0] for r in me.execute("select user_id from public.workouts")}
            elif action == "post":
                me.rpc("post_message", conversation_id=conversation, client_message_id=str(uuid.uuid4()), content="x")
                owners = {r[0] for r in me.execute("select user_id from public.messages")}
            elif action == "export":
                export = me.rpc("export_my_data")
                owners = {uuid.UUID(r["user_id"]) for r in export["plans"]}
            else:
                me.rpc(
                    "finalize_onboarding",
                    idempotency_key=f"k{seed}-{i}",
                    profile={"display_name": "x", "goal": "strength", "days_per_week": 1},
                    plan={"weeks": 1},
                )
                owners = {r[0] for r in me.execute("select user_id from public.plans")}
            if owners - {me.user_id}:
                leaks.append(f"{me.user_id} saw {owners - {me.user_id}}")
            with lock:
                calls["n"] += 1

    threads = [threading.Thread(target=work, args=(c, n)) for n, c in enumerate(c for u in users for c in clients[u])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert leaks == []
    assert calls["n"] == 8 * 40
    assert admin.execute(
        "select count(*) from (select user_id from public.plans where status = 'active'"
        " group by user_id having count(*) <> 1) x"
    ).fetchone() == (0,)
