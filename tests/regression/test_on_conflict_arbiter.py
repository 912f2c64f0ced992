"""The seed's bug, locked: finalize_onboarding upserts profiles ON CONFLICT (auth_user_id),
which needs a unique constraint on auth_user_id. Without it, every sign-up fails with 42P10
("there is no unique or exclusion constraint matching the ON CONFLICT specification")."""

from __future__ import annotations

import psycopg
import pytest

from tests.payloads import plan, profile


def test_shipped_schema_has_the_arbiter(admin):
    row = admin.execute(
        "select c.contype, array(select a.attname from unnest(c.conkey) k join pg_attribute a"
        " on a.attrelid = c.conrelid and a.attnum = k)"
        " from pg_constraint c where c.conrelid = 'public.profiles'::regclass"
        " and c.conname = 'profiles_auth_user_id_unique'"
    ).fetchone()
    assert row == ("u", ["auth_user_id"])


def test_finalize_fails_with_42p10_without_the_constraint(alice, admin):
    """The constraint is what the upsert relies on: drop it (in this scratch database) and
    the very first sign-up fails exactly as production did."""
    admin.execute("alter table public.profiles drop constraint profiles_auth_user_id_unique")

    with pytest.raises(psycopg.Error) as err:
        alice.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan())

    assert err.value.sqlstate == "42P10"
    assert "no unique or exclusion constraint matching the ON CONFLICT" in str(err.value)
    assert admin.execute("select count(*) from public.profiles").fetchone()[0] == 0


def test_finalize_works_again_once_the_constraint_is_back(alice, admin):
    admin.execute("alter table public.profiles drop constraint profiles_auth_user_id_unique")
    admin.execute("alter table public.profiles add constraint profiles_auth_user_id_unique unique (auth_user_id)")
    response = alice.rpc("finalize_onboarding", idempotency_key="k", profile=profile(), plan=plan())
    assert response["replayed"] is False
