"""apply never stalls the API. Under a load of signed-in reads and RPC calls on several
connections, a migration that changes a policy on every table runs with a lock budget:
no request waits longer than the lock timeout plus a margin. With a reader holding a
table longer than all retries, apply fails naming the table and the lock, and nothing of
the migration is applied, while the other tables' readers never wait on it.

Every bound is relative to the lock timeout the test configures: the margin is that same
timeout again (the requests themselves take milliseconds; the rest is a busy machine)."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from harness.guard import LockPolicy, LockTimeoutError
from harness.loader import apply
from tests.apply.conftest import Load, add_migration
from tests.payloads import onboard

TIMEOUT = 1.0  # seconds: the lock timeout apply runs with in these tests
MARGIN = TIMEOUT
POLICY_FILE = "db/policies/010_row_level_security.sql"
VERSION = "20261126000000"


def changed_policies(tree) -> str:
    """db/policies' file with every owner check written the other way round: a changed
    policy on every table. The tree's file changes too, so the tree and the history agree."""
    path = tree / POLICY_FILE
    text = path.read_text()
    for column in ("auth_user_id", "user_id"):
        text = text.replace(f"((select auth.uid()) = {column})", f"({column} = (select auth.uid()))")
    path.write_text(text)
    return text


def policies(admin: psycopg.Connection) -> list[tuple]:
    return admin.execute("select tablename, policyname, qual, with_check from pg_policies order by 1, 2").fetchall()


@pytest.fixture
def users(make_user, tagged_client):
    """Four onboarded users with a conversation and a message each; their ids and conversations."""
    result = []
    for i in range(4):
        user = tagged_client(make_user(), f"coachdb-load-setup-{i}")
        onboard(user)
        conversation = user.rpc("start_conversation", title="hi")["conversation_id"]
        user.rpc("post_message", conversation_id=conversation, client_message_id=str(uuid.uuid4()), content="hi")
        result.append((user.user_id, conversation))
    return result


def load_of(users, tagged_client) -> Load:
    """Two readers of every table and two RPC callers, each on its own connection."""
    tables = ["profiles", "plans", "workouts", "conversations", "messages"]

    def reader(client):
        for table in tables:
            client.select(table)

    def chat(conversation):
        return lambda client: client.rpc("get_chat_context", conversation_id=conversation)

    clients = [(tagged_client(users[i][0], f"coachdb-load-read-{i}"), reader) for i in range(2)]
    clients += [(tagged_client(users[i][0], f"coachdb-load-rpc-{i}"), chat(users[i][1])) for i in range(2, 4)]
    return Load(clients)


def hold(url: str, table: str, seconds: float | None, released: threading.Event, started: threading.Event) -> None:
    """An ordinary reader that keeps ``table`` (ACCESS SHARE) for ``seconds``, or until released."""
    with psycopg.connect(url, autocommit=True, application_name="coachdb-load-holder") as conn, conn.transaction():
        conn.execute(f"select count(*) from public.{table}")
        started.set()
        released.wait(seconds)


@pytest.mark.parametrize("route", ["migration", "converge"])
def test_a_policy_change_on_every_table_under_load_keeps_every_request_within_the_lock_timeout(
    route, db_url, admin, tree, users, tagged_client
):
    """``migration``: a new migration changes a policy on every table (one transaction, as db
    push runs it); ``converge``: every table's read policy was changed by hand, and apply puts
    each back (one transaction per table)."""
    if route == "migration":
        add_migration(tree, VERSION, "owner_checks_reversed", changed_policies(tree))
    else:
        for table, policy in admin.execute(
            "select tablename, policyname from pg_policies where cmd = 'SELECT' and schemaname = 'public'"
        ).fetchall():
            admin.execute(f'alter policy "{policy}" on public.{table} using (false)')
    before = policies(admin)
    released, holding = threading.Event(), threading.Event()
    # a reader that keeps the first table apply locks for part of the budget: apply waits
    # for it (holding nothing else), and the requests that queue behind apply wait with it
    holder = threading.Thread(target=hold, args=(db_url, "conversations", 0.6 * TIMEOUT, released, holding))

    with load_of(users, tagged_client) as load:
        time.sleep(0.3)
        holder.start()
        holding.wait()
        start = time.monotonic()
        report = apply(db_url, root=tree, lock=LockPolicy(timeout=TIMEOUT))
        end = time.monotonic()
        time.sleep(0.2)
    holder.join()

    after = policies(admin)
    if route == "migration":
        assert report.applied == [f"supabase/migrations/{VERSION}_owner_checks_reversed.sql"]
        assert len(report.skipped) == 6  # `enable row level security` where it is on already
        assert len(after) == len(before) and all(a[2] != b[2] for a, b in zip(after, before, strict=True))
    else:
        assert len(report.repaired) == 6 and all(q != "false" for _, _, q, _ in after)
    during = load.during(start, end)
    errors = [s for s in load.samples if s[2]]
    waits = [seconds for _, seconds, _ in during]
    print(
        f"\napply under load ({route}): {len(during)} requests during apply ({end - start:.2f} s), "
        f"max request {max(waits) * 1000:.0f} ms, lock timeout {TIMEOUT * 1000:.0f} ms"
    )
    assert errors == []
    assert len(during) > 10
    assert max(waits) < TIMEOUT + MARGIN


def test_a_reader_holding_a_table_past_every_retry_fails_apply_naming_it_and_nothing_is_applied(
    db_url, admin, tree, users, tagged_client
):
    add_migration(tree, VERSION, "owner_checks_reversed", changed_policies(tree))
    before = policies(admin)
    released, holding = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold, args=(db_url, "messages", None, released, holding))
    policy = LockPolicy(timeout=TIMEOUT, retries=2, backoff=0.1)

    with load_of(users, tagged_client) as load:
        holder.start()
        holding.wait()
        start = time.monotonic()
        with pytest.raises(LockTimeoutError) as err:
            apply(db_url, root=tree, lock=policy)
        end = time.monotonic()
        released.set()
    holder.join()

    message = str(err.value)
    assert "could not take AccessExclusiveLock on public.messages" in message
    assert "in 3 attempts" in message and "held by: pid" in message and "application coachdb-load-holder" in message
    assert "select count(*)" not in message  # never another session's query text
    assert "nothing of this step was applied" in message
    assert policies(admin) == before
    assert admin.execute(
        "select count(*) from supabase_migrations.schema_migrations where version = %s", [VERSION]
    ).fetchone() == (0,)
    others = [s for s in load.during(start, end) if s[2] is None]
    waits = [seconds for _, seconds, _ in others]
    print(f"\napply failing on a held table: max request {max(waits) * 1000:.0f} ms over {len(waits)} requests")
    assert max(waits) < TIMEOUT + MARGIN


def test_a_lock_timeout_that_is_not_positive_is_one_clear_line(db_url):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "apply", "--url", db_url, "--lock-timeout", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "coachdb: error: --lock-timeout must be above 0 seconds and --lock-retries 0 or more"
    )
