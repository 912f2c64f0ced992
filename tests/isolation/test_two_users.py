"""Two users, every table: each sees, changes and deletes only their own rows, and another
user's row behaves exactly like one that does not exist."""

from __future__ import annotations

import psycopg
import pytest

from tests.payloads import plan, profile

#: a column authenticated may update directly, where there is one
WRITABLE = {"profiles": "display_name = 'x'", "plans": "name = 'x'", "conversations": "title = 'x'"}

#: table -> owner column
OWNED_TABLES = {
    "profiles": "auth_user_id",
    "plans": "user_id",
    "workouts": "user_id",
    "conversations": "user_id",
    "messages": "user_id",
    "idempotency_keys": "user_id",
}


def onboard_with_chat(user, admin) -> None:
    response = user.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan())
    conversation = admin.execute(
        "insert into public.conversations (user_id, plan_id, title) values (%s, %s, 'hi') returning id",
        [user.user_id, response["plan_id"]],
    ).fetchone()[0]
    admin.execute(
        "insert into public.messages (user_id, conversation_id, role, content) values (%s, %s, 'user', 'hello')",
        [user.user_id, conversation],
    )


@pytest.fixture
def two_users(alice, bob, admin):
    onboard_with_chat(alice, admin)
    onboard_with_chat(bob, admin)
    return alice, bob


def test_every_table_is_covered():
    """A new table must be added here (and the matrix of issue 4 derives it from the catalog)."""
    assert set(OWNED_TABLES) == {
        "profiles",
        "plans",
        "workouts",
        "conversations",
        "messages",
        "idempotency_keys",
    }


@pytest.mark.parametrize(("table", "owner"), [t for t in OWNED_TABLES.items() if t[0] != "idempotency_keys"])
def test_users_read_only_their_own_rows(two_users, admin, table, owner):
    alice, bob = two_users
    for user in (alice, bob):
        rows = user.select(table)
        assert rows, f"{table}: the owner sees their own rows"
        assert {row[owner] for row in rows} == {str(user.user_id)}
        total = admin.execute(f"select count(*) from public.{table} where {owner} = %s", [user.user_id]).fetchone()[0]
        assert len(rows) == total


def test_idempotency_keys_are_not_readable_by_users(two_users):
    alice, _ = two_users
    with pytest.raises(psycopg.Error) as err:
        alice.select("idempotency_keys")
    assert err.value.sqlstate == "42501"


@pytest.mark.parametrize(("table", "owner"), list(OWNED_TABLES.items()))
def test_another_users_rows_cannot_be_updated_or_deleted(two_users, admin, table, owner):
    alice, bob = two_users
    before = admin.execute(f"select to_jsonb(t) from public.{table} t order by 1").fetchall()
    for statement in (
        f"update public.{table} set {WRITABLE.get(table, 'updated_at = now()')} where {owner} = %s",
        f"delete from public.{table} where {owner} = %s",
    ):
        try:
            changed = alice.execute(statement + " returning 1", [bob.user_id])
        except psycopg.Error as exc:
            assert exc.sqlstate == "42501", exc
        else:
            assert changed == [], f"{statement}: touched another user's rows"
    assert admin.execute(f"select to_jsonb(t) from public.{table} t order by 1").fetchall() == before


@pytest.mark.parametrize(("table", "owner"), list(OWNED_TABLES.items()))
def test_users_cannot_insert_rows_directly(two_users, table, owner):
    alice, bob = two_users
    for target in (alice.user_id, bob.user_id):
        with pytest.raises(psycopg.Error) as err:
            alice.execute(f"insert into public.{table} ({owner}) values (%s)", [target])
        assert err.value.sqlstate == "42501"


def test_owner_cannot_be_changed_by_an_update(two_users):
    alice, bob = two_users
    with pytest.raises(psycopg.Error) as err:
        alice.execute("update public.plans set user_id = %s where user_id = %s", [bob.user_id, alice.user_id])
    assert err.value.sqlstate == "42501"


def test_anon_reads_nothing(two_users, anon):
    for table in OWNED_TABLES:
        with pytest.raises(psycopg.Error) as err:
            anon.select(table)
        assert err.value.sqlstate == "42501", table
