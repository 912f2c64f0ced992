"""export_my_data and purge_idempotency_keys."""

from __future__ import annotations

import psycopg
import pytest

from tests.payloads import onboard


def test_export_holds_every_table_and_only_the_callers_rows(alice, bob, admin):
    onboard(alice)
    onboard(bob)
    alice.rpc("start_conversation", title="t")

    export = alice.rpc("export_my_data")

    assert set(export) == {"profiles", "plans", "workouts", "conversations", "messages", "idempotency_keys"}
    for table, rows in export.items():
        owner = "auth_user_id" if table == "profiles" else "user_id"
        count = admin.execute(f"select count(*) from public.{table} where {owner} = %s", [alice.user_id]).fetchone()[0]
        assert len(rows) == count, table
        assert {r[owner] for r in rows} <= {str(alice.user_id)}
    assert len(export["workouts"]) == 12 and len(export["conversations"]) == 1


def test_purge_removes_old_keys_and_is_service_role_only(alice, service, admin):
    onboard(alice, "old")
    onboard(alice, "new")
    admin.execute("update public.idempotency_keys set created_at = now() - interval '40 days' where key = 'old'")

    with pytest.raises(psycopg.Error) as err:
        alice.rpc("purge_idempotency_keys")
    assert err.value.sqlstate == "42501"

    assert service.rpc("purge_idempotency_keys") == 1
    assert admin.execute("select key from public.idempotency_keys").fetchall() == [("new",)]
    with pytest.raises(psycopg.Error) as err:
        service.rpc("purge_idempotency_keys", older_than="-1 day")
    assert err.value.sqlstate == "22023"
