"""``create index concurrently`` in a migration: it runs after the migration's transaction,
writes go on while it builds, and a build killed half way is finished by the next apply
(the INVALID index it left is dropped and built again)."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from harness.concurrent import index_state
from harness.guard import LockPolicy
from harness.loader import apply
from tests.apply.conftest import Load, add_migration
from tests.payloads import onboard

VERSION = "20261126000100"
INDEX = "messages_by_length"
MIGRATION = f"""-- an index on a live table, built without blocking its writes
create index concurrently if not exists {INDEX} on public.messages (user_id, char_length(content));
"""
TIMEOUT = 1.0


@pytest.fixture
def writers(make_user, tagged_client):
    """Three users, each posting messages into their own conversation on their own connection."""
    result = []
    for i in range(3):
        user = tagged_client(make_user(), f"coachdb-load-write-{i}")
        onboard(user)
        conversation = user.rpc("start_conversation", title="hi")["conversation_id"]
        result.append((user, conversation))
    return result


def write_load(writers) -> Load:
    def post(conversation):
        return lambda client: client.rpc(
            "post_message", conversation_id=conversation, client_message_id=str(uuid.uuid4()), content="go"
        )

    return Load([(user, post(conversation)) for user, conversation in writers])


def old_writer(url: str, release: threading.Event, holding: threading.Event, seconds: float | None) -> None:
    """A write transaction that was open before the build: a concurrent build waits for it."""
    with psycopg.connect(url, autocommit=True, application_name="coachdb-old-writer") as conn, conn.transaction():
        conn.execute("lock table public.messages in row exclusive mode")
        holding.set()
        release.wait(seconds)


def watch_lock_waits(url: str, stop: threading.Event, seen: list) -> None:
    """Every writer backend seen waiting for a table lock (``relation``: what a build that
    blocks writes makes them do), polled from pg_stat_activity. Waits writers cause each
    other (``extend`` as the table grows, ``transactionid``) are not the build's."""
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            seen += conn.execute(
                "select application_name, wait_event, left(query, 60) from pg_stat_activity"
                " where application_name like 'coachdb-load-write%%' and wait_event_type = 'Lock'"
                " and wait_event = 'relation'"
            ).fetchall()
            time.sleep(0.01)


def test_a_concurrent_index_build_under_write_load_blocks_no_write(db_url, admin, tree, writers):
    add_migration(tree, VERSION, "messages_by_length", MIGRATION)
    release, holding, stop = threading.Event(), threading.Event(), threading.Event()
    seen: list = []
    holder = threading.Thread(target=old_writer, args=(db_url, release, holding, 1.0))
    watcher = threading.Thread(target=watch_lock_waits, args=(db_url, stop, seen))

    with write_load(writers) as load:
        watcher.start()
        holder.start()
        holding.wait()
        start = time.monotonic()
        report = apply(db_url, root=tree, lock=LockPolicy(timeout=TIMEOUT))
        end = time.monotonic()
        stop.set()
    holder.join()
    watcher.join()

    assert report.applied == [f"supabase/migrations/{VERSION}_messages_by_length.sql"]
    assert report.concurrent == [f"supabase/migrations/{VERSION}_messages_by_length.sql step 1: ran"]
    assert index_state(admin, "public", INDEX) == "valid"
    during = [s for s in load.during(start, end) if s[2] is None]
    print(
        f"\nconcurrent build: {len(during)} writes during apply ({end - start:.2f} s), "
        f"max write {max(s[1] for s in during) * 1000:.0f} ms"
    )
    assert seen == []  # no writer ever waited for a table lock
    assert [s for s in load.samples if s[2]] == []
    assert len(during) > 10
    assert max(s[1] for s in during) < 2 * TIMEOUT, "a write took longer than the lock timeout plus a margin"


def test_a_build_killed_half_way_is_finished_by_the_next_apply(db_url, admin, tree):
    add_migration(tree, VERSION, "messages_by_length", MIGRATION)
    release, holding = threading.Event(), threading.Event()
    holder = threading.Thread(target=old_writer, args=(db_url, release, holding, None))
    holder.start()
    holding.wait()
    failure: list[BaseException] = []

    def first_apply() -> None:
        try:
            apply(db_url, root=tree)
        except BaseException as exc:
            failure.append(exc)

    runner = threading.Thread(target=first_apply)
    runner.start()
    for _ in range(600):  # the build is waiting for the old writer: kill it there
        row = admin.execute(
            "select pid from pg_stat_activity where query ilike 'create index concurrently%%'"
        ).fetchone()
        if row and index_state(admin, "public", INDEX) == "invalid":
            admin.execute("select pg_terminate_backend(%s)", [row[0]])
            break
        time.sleep(0.05)
    else:
        pytest.fail("the concurrent build never started")
    runner.join()
    release.set()
    holder.join()

    assert failure and isinstance(failure[0], psycopg.OperationalError)
    assert index_state(admin, "public", INDEX) == "invalid"
    assert admin.execute("select count(*) from coachdb_meta.pending_steps").fetchone() == (1,)

    report = apply(db_url, root=tree)

    assert report.applied == []
    assert report.concurrent == [f"{VERSION} step 1: dropped the invalid index left by an interrupted build, rebuilt"]
    assert index_state(admin, "public", INDEX) == "valid"
    assert admin.execute("select count(*) from coachdb_meta.pending_steps").fetchone() == (0,)
    assert apply(db_url, root=tree).concurrent == []
