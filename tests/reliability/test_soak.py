"""A soak: a bounded mixed load (8 clients, 4 users) with random disconnects, for
COACHDB_SOAK_SECONDS (5 by default, 60 on demand). Every loop is bounded in count and time
and talks to loopback only. Afterwards every acknowledged call is present, the invariants
hold and ``coachdb doctor`` is clean."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter

import psycopg
import pytest

from harness.context import Client
from harness.doctor import diagnose
from tests.payloads import plan, profile

SECONDS = float(os.environ.get("COACHDB_SOAK_SECONDS", "5"))
MAX_CALLS_PER_CLIENT = 5_000


@pytest.mark.slow
def test_soak_with_random_disconnects(client_url, db_url, make_user, admin):
    users = [make_user() for _ in range(4)]
    stats: Counter[str] = Counter()
    acknowledged: list[tuple[str, str]] = []  # (kind, id) that must exist afterwards
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def connect() -> psycopg.Connection:
        return psycopg.connect(client_url, user="authenticator", autocommit=True, prepare_threshold=None)

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        user = users[seed % len(users)]
        conn = connect()
        me = Client(conn, user)
        for i in range(MAX_CALLS_PER_CLIENT):
            if time.monotonic() > deadline:
                break
            try:
                if rng.random() < 0.05:  # a phone drops mid-request: begin, write, vanish
                    conn.execute("begin")
                    conn.execute(
                        "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                        [f'{{"sub": "{user}"}}'],
                    )
                    conn.execute("select public.start_conversation('dropped')")
                    conn.close()
                    with lock:
                        stats["disconnects"] += 1
                    conn = connect()
                    me = Client(conn, user)
                    continue
                action = rng.choice(["onboard", "post", "complete", "read"])
                if action == "onboard":
                    r = me.rpc(
                        "finalize_onboarding", idempotency_key=f"s{seed}-{i % 7}", profile=profile(), plan=plan(weeks=1)
                    )
                    kind, ident = "plan", r["plan_id"]
                elif action == "post":
                    conversation = me.rpc("start_conversation")["conversation_id"]
                    r = me.rpc(
                        "post_message",
                        conversation_id=conversation,
                        client_message_id=str(uuid.uuid4()),
                        content="hello",
                    )
                    kind, ident = "message", r["message_id"]
                elif action == "complete":
                    rows = me.execute(
                        "select w.id::text from public.workouts w join public.plans p on p.id = w.plan_id"
                        " where p.status = 'active' and w.status = 'scheduled' limit 1"
                    )
                    if not rows:
                        continue
                    r = me.rpc("complete_workout", workout_id=rows[0][0], result={"rpe": 3})
                    kind, ident = "completed", r["workout_id"]
                else:
                    me.rpc("export_my_data")
                    kind, ident = "", ""
                with lock:
                    stats["calls"] += 1
                    if kind:
                        acknowledged.append((kind, ident))
            except psycopg.Error as exc:
                with lock:
                    stats[f"error {exc.sqlstate}"] += 1
                if exc.sqlstate not in ("PT409",):
                    raise
        conn.close()

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 120)
    assert not any(t.is_alive() for t in threads)

    checks = {
        "plan": "select count(*) from public.plans where id = %s",
        "message": "select count(*) from public.messages where id = %s",
        "completed": "select count(*) from public.workouts where id = %s and status = 'completed'",
    }
    lost = [a for a in acknowledged if admin.execute(checks[a[0]], [a[1]]).fetchone() != (1,)]
    dropped = admin.execute("select count(*) from public.conversations where title = 'dropped'").fetchone()[0]
    multiple_active = admin.execute(
        "select count(*) from (select user_id from public.plans where status = 'active'"
        " group by user_id having count(*) > 1) x"
    ).fetchone()[0]
    print(f"\nsoak {SECONDS}s: {dict(stats)}, {len(acknowledged)} acknowledged rows checked, {len(lost)} lost")
    assert stats["calls"] > 0
    assert lost == []
    assert dropped == 0, "a dropped connection's uncommitted write became visible"
    assert multiple_active == 0
    assert diagnose(db_url) == [], "coachdb doctor is not clean after the soak"
