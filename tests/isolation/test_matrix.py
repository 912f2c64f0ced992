"""The isolation matrix, generated from the catalog: every table and function in the exposed
schema, for every role (anon, user A, user B, service_role), every operation and every RPC.

Tables and functions are enumerated from the live database, not listed by hand, so one
added later without RLS, a policy, a revoke or an entry in the RPC specification below
fails here by itself (``test_a_new_table_without_policies_fails_the_matrix`` shows it).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from harness.access import access_rules, exposed_functions, exposed_tables, problems
from tests.helpers import snapshot
from tests.payloads import first_workout, onboard

#: What each role may do to each table's rows directly, beyond reading its own (RLS):
#: the columns authenticated may update, and whether it may delete.
DIRECT_WRITES = {
    "public.profiles": {"update": "display_name = 'x'", "delete": False},
    "public.plans": {"update": "name = 'x'", "delete": False},
    "public.workouts": {"update": None, "delete": False},
    "public.conversations": {"update": "title = 'x'", "delete": True},
    "public.messages": {"update": None, "delete": False},
    "public.idempotency_keys": {"update": None, "delete": False, "select": False},
}

#: Every RPC: who may call it, and the arguments that name another user's row.
RPCS = {
    "public.finalize_onboarding(text,jsonb,jsonb)": "authenticated",
    "public.activate_plan(uuid)": "authenticated",
    "public.complete_workout(uuid,jsonb)": "authenticated",
    "public.skip_workout(uuid,text)": "authenticated",
    "public.start_conversation(text,uuid)": "authenticated",
    "public.post_message(uuid,uuid,text)": "authenticated",
    "public.get_chat_context(uuid,integer)": "authenticated",
    "public.export_my_data()": "authenticated",
    "public.record_assistant_message(uuid,text,jsonb,uuid)": "service_role",
    "public.purge_idempotency_keys(interval)": "service_role",
}


def owner_column(table: str) -> str:
    return "auth_user_id" if table == "public.profiles" else "user_id"


@pytest.fixture
def world(alice, bob, admin):
    """Both users with rows in every table."""
    ids = {}
    for user in (alice, bob):
        plan = onboard(user)
        conversation = user.rpc("start_conversation", title="t", plan_id=plan["plan_id"])["conversation_id"]
        user.rpc("post_message", conversation_id=conversation, client_message_id=str(uuid.uuid4()), content="hi")
        ids[user.user_id] = {
            "plan": plan["plan_id"],
            "workout": first_workout(user, plan["plan_id"]),
            "conversation": conversation,
        }
    return ids


def test_catalog_rules_hold_for_every_table_and_function(admin):
    assert problems(admin) == []


def test_the_matrix_reads_the_rules_doctor_reports():
    """One definition per rule: the matrix enforces doctor's lint files tagged ``access``."""
    names = {rule.name for rule in access_rules()}
    assert {"rls_disabled_in_public", "anon_table_privilege", "function_executable_by_anon"} <= names
    assert all(rule.path.parent.name == "lints" and rule.path.suffix == ".sql" for rule in access_rules())


def test_every_table_and_rpc_is_in_the_matrix(admin):
    assert set(exposed_tables(admin)) == set(DIRECT_WRITES), "a table without a declared access rule"
    assert set(exposed_functions(admin)) == set(RPCS), "a function without a declared caller"


@pytest.mark.parametrize("table", sorted(DIRECT_WRITES))
def test_table_matrix(world, alice, bob, anon, service, admin, table):
    owner = owner_column(table)
    rule = DIRECT_WRITES[table]

    # anon: nothing at all
    for statement in (f"select 1 from {table}", f"delete from {table}", f"update {table} set {owner} = null"):
        with pytest.raises(psycopg.Error) as err:
            anon.execute(statement)
        assert err.value.sqlstate == "42501", (table, statement)

    # users: their own rows only, never another's, never an insert
    for me, other in ((alice, bob), (bob, alice)):
        if rule.get("select", True):
            rows = me.execute(f"select {owner} from {table}")
            mine = admin.execute(f"select count(*) from {table} where {owner} = %s", [me.user_id]).fetchone()[0]
            assert rows and {r[0] for r in rows} == {me.user_id} and len(rows) == mine, table
        else:
            with pytest.raises(psycopg.Error) as err:
                me.execute(f"select 1 from {table}")
            assert err.value.sqlstate == "42501"
        before = snapshot(admin)
        writes = [f"delete from {table} where {owner} = %s"]
        writes.append(f"update {table} set {rule['update'] or 'updated_at = now()'} where {owner} = %s")
        for statement in writes:
            try:
                touched = me.execute(statement + " returning 1", [other.user_id])
            except psycopg.Error as exc:
                assert exc.sqlstate == "42501", (table, statement, exc)
            else:
                assert touched == [], (table, statement)
        assert snapshot(admin) == before, f"{table}: another user's rows changed"
        with pytest.raises(psycopg.Error) as err:
            me.execute(f"insert into {table} ({owner}) values (%s)", [me.user_id])
        assert err.value.sqlstate == "42501", table

    # service role: everything (it bypasses RLS, as on Supabase)
    total = admin.execute(f"select count(*) from {table}").fetchone()[0]
    assert service.execute(f"select count(*) from {table}") == [(total,)]


def test_users_cannot_move_children_to_another_users_parent_or_change_owners(world, alice, bob):
    a, b = world[alice.user_id], world[bob.user_id]
    attempts = [
        ("update public.workouts set plan_id = %s where id = %s", [b["plan"], a["workout"]]),
        ("update public.conversations set plan_id = %s where id = %s", [b["plan"], a["conversation"]]),
        ("update public.messages set conversation_id = %s where user_id = %s", [b["conversation"], alice.user_id]),
        ("update public.plans set user_id = %s where id = %s", [bob.user_id, a["plan"]]),
        ("update public.profiles set auth_user_id = %s where auth_user_id = %s", [bob.user_id, alice.user_id]),
        ("update public.plans set status = 'active' where user_id = %s", [alice.user_id]),
    ]
    for statement, params in attempts:
        with pytest.raises(psycopg.Error) as err:
            alice.execute(statement, params)
        assert err.value.sqlstate == "42501", statement


def test_allowed_direct_writes_work_on_own_rows(world, alice, admin):
    alice.execute("update public.profiles set display_name = 'Al' where auth_user_id = %s", [alice.user_id])
    alice.execute("update public.plans set name = 'Mine' where id = %s", [world[alice.user_id]["plan"]])
    alice.execute("delete from public.conversations where id = %s", [world[alice.user_id]["conversation"]])
    assert admin.execute(
        "select display_name from public.profiles where auth_user_id = %s", [alice.user_id]
    ).fetchone() == ("Al",)
    assert admin.execute("select count(*) from public.messages where user_id = %s", [alice.user_id]).fetchone() == (0,)


def rpc_calls(ids_of_other: dict[str, str]) -> dict[str, dict]:
    """Arguments for each RPC that point at another user's rows (or are harmless)."""
    return {
        "finalize_onboarding": {
            "idempotency_key": "m",
            "profile": {"display_name": "x", "goal": "strength", "days_per_week": 1},
        },
        "activate_plan": {"plan_id": ids_of_other["plan"]},
        "complete_workout": {"workout_id": ids_of_other["workout"]},
        "skip_workout": {"workout_id": ids_of_other["workout"]},
        "start_conversation": {"plan_id": ids_of_other["plan"]},
        "post_message": {
            "conversation_id": ids_of_other["conversation"],
            "client_message_id": str(uuid.uuid4()),
            "content": "x",
        },
        "get_chat_context": {"conversation_id": ids_of_other["conversation"]},
        "export_my_data": {},
        "record_assistant_message": {"conversation_id": ids_of_other["conversation"], "content": "x"},
        "purge_idempotency_keys": {"older_than": "100 years"},
    }


@pytest.mark.parametrize("signature", sorted(RPCS))
def test_rpc_matrix(world, alice, bob, anon, service, admin, signature):
    name = signature.split("(")[0].removeprefix("public.")
    args = rpc_calls(world[bob.user_id])[name]
    allowed = RPCS[signature]

    # anon: never
    with pytest.raises(psycopg.Error) as err:
        anon.rpc(name, **args)
    assert err.value.sqlstate == "42501", name

    # the role that may not call it: 42501
    outsider = service if allowed == "authenticated" else alice
    with pytest.raises(psycopg.Error) as err:
        outsider.rpc(name, **args)
    assert err.value.sqlstate == "42501", name

    # user A on user B's rows: exactly like rows that do not exist
    before = snapshot(admin)
    if allowed == "authenticated" and name not in ("finalize_onboarding", "export_my_data"):
        with pytest.raises(psycopg.Error) as err:
            alice.rpc(name, **args)
        assert err.value.sqlstate == "PT404", name
        assert snapshot(admin) == before
    elif name == "export_my_data":
        export = alice.rpc(name)
        assert str(bob.user_id) not in str(export)


def test_a_new_table_without_policies_fails_the_matrix(admin):
    """What happens on Supabase when someone adds a table and forgets the rest: default
    privileges hand it to anon, RLS is off. The catalog rules catch it without being told."""
    admin.execute("create table public.notes (id bigint primary key, user_id uuid, body text)")
    admin.execute("grant all on public.notes to anon, authenticated")  # Supabase's default privileges

    found = {(p.name, p.object) for p in problems(admin)}

    assert ("rls_disabled_in_public", "public.notes") in found
    assert ("anon_table_privilege", "public.notes") in found
    assert "public.notes" not in DIRECT_WRITES  # and the matrix's coverage check fails too

    admin.execute("alter table public.notes enable row level security")
    admin.execute("create policy p on public.notes for select to authenticated using (auth.uid() = user_id)")
    found = {(p.name, p.object) for p in problems(admin)}
    assert ("auth_rls_initplan", "public.notes: p") in found
    assert ("grant_without_policy", "public.notes") in found


def test_a_new_function_without_revokes_fails_the_matrix(admin):
    admin.execute("create function public.leak() returns int language sql as 'select 1'")
    found = {(p.name, p.object) for p in problems(admin)}
    assert ("function_search_path_mutable", "public.leak()") in found
    assert ("function_executable_by_anon", "public.leak()") in found
    assert "public.leak()" not in RPCS
