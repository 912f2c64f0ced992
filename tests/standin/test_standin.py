"""The Supabase stand-in matches Supabase where tests and apps touch it: the ``extensions``
schema, ``auth.users`` (Supabase Auth's columns, defaults, unique keys, RLS on), and a
Basejump-style test-helper flow. Every test here runs on every server, so the same SQL that
passes on plain PostgreSQL would pass on a hosted project."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from tests.helpers import error_of

HELPERS = Path(__file__).with_name("basejump_helpers.sql")

#: Supabase Auth's auth.users (github.com/supabase/auth, migrations/): name -> type.
SUPABASE_USERS_COLUMNS = {
    "instance_id": "uuid",
    "id": "uuid",
    "aud": "character varying(255)",
    "role": "character varying(255)",
    "email": "character varying(255)",
    "encrypted_password": "character varying(255)",
    "email_confirmed_at": "timestamp with time zone",
    "invited_at": "timestamp with time zone",
    "confirmation_token": "character varying(255)",
    "confirmation_sent_at": "timestamp with time zone",
    "recovery_token": "character varying(255)",
    "recovery_sent_at": "timestamp with time zone",
    "email_change_token_new": "character varying(255)",
    "email_change": "character varying(255)",
    "email_change_sent_at": "timestamp with time zone",
    "last_sign_in_at": "timestamp with time zone",
    "raw_app_meta_data": "jsonb",
    "raw_user_meta_data": "jsonb",
    "is_super_admin": "boolean",
    "created_at": "timestamp with time zone",
    "updated_at": "timestamp with time zone",
    "phone": "text",
    "phone_confirmed_at": "timestamp with time zone",
    "phone_change": "text",
    "phone_change_token": "character varying(255)",
    "phone_change_sent_at": "timestamp with time zone",
    "confirmed_at": "timestamp with time zone",
    "email_change_token_current": "character varying(255)",
    "email_change_confirm_status": "smallint",
    "banned_until": "timestamp with time zone",
    "reauthentication_token": "character varying(255)",
    "reauthentication_sent_at": "timestamp with time zone",
    "is_sso_user": "boolean",
    "deleted_at": "timestamp with time zone",
    "is_anonymous": "boolean",
}


def available(admin: psycopg.Connection, extension: str) -> bool:
    query = "select exists (select from pg_available_extensions where name = %s)"
    return admin.execute(query, [extension]).fetchone()[0]


# -- extensions ------------------------------------------------------------------------------


def test_extensions_uuid_generate_v4_returns_random_version_4_uuids(admin):
    first, second = admin.execute("select extensions.uuid_generate_v4(), extensions.uuid_generate_v4()").fetchone()
    assert isinstance(first, uuid.UUID) and first.version == 4
    assert first != second


def test_uuid_ossp_is_the_extension_where_the_server_ships_it(admin):
    if not available(admin, "uuid-ossp"):
        pytest.skip("this server has no uuid-ossp: extensions.uuid_generate_v4() is the SQL stand-in")
    schema = admin.execute(
        "select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where extname = 'uuid-ossp'"
    ).fetchone()
    assert schema == ("extensions",)


def test_pgcrypto_lives_in_extensions_where_the_server_ships_it(admin):
    if not available(admin, "pgcrypto"):
        pytest.skip("this server has no pgcrypto extension, so the stand-in cannot offer it")
    hashed = admin.execute("select extensions.crypt('secret', extensions.gen_salt('bf'))").fetchone()[0]
    assert admin.execute("select extensions.crypt('secret', %s) = %s", [hashed, hashed]).fetchone()[0]


def test_api_roles_may_use_the_extensions_schema(admin):
    for role in ("anon", "authenticated", "service_role"):
        assert admin.execute("select has_schema_privilege(%s, 'extensions', 'usage')", [role]).fetchone()[0], role


# -- auth.users ------------------------------------------------------------------------------


def test_auth_users_has_supabase_auths_35_columns_with_their_types(admin):
    columns = dict(
        admin.execute(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute"
            " where attrelid = 'auth.users'::regclass and attnum > 0 and not attisdropped"
        ).fetchall()
    )
    assert columns == SUPABASE_USERS_COLUMNS


def test_auth_users_defaults_are_supabases(admin):
    user_id = uuid.uuid4()
    row = admin.execute(
        "insert into auth.users (id, email, email_confirmed_at) values (%s, 'd@example.test', now())"
        " returning is_anonymous, is_sso_user, phone, phone_change, phone_change_token,"
        " email_change_token_current, email_change_confirm_status, reauthentication_token,"
        " confirmed_at = email_confirmed_at, created_at",
        [user_id],
    ).fetchone()
    assert row == (False, False, None, "", "", "", 0, "", True, None)


def test_auth_users_id_has_no_default_as_on_supabase(admin):
    err = error_of(lambda: admin.execute("insert into auth.users (email) values ('x@example.test')"))
    assert err.sqlstate == "23502"


def test_an_email_belongs_to_one_account_except_sso_accounts(admin):
    admin.execute("insert into auth.users (id, email) values (%s, 'same@example.test')", [uuid.uuid4()])
    err = error_of(
        lambda: admin.execute("insert into auth.users (id, email) values (%s, 'same@example.test')", [uuid.uuid4()])
    )
    assert (err.sqlstate, err.diag.constraint_name) == ("23505", "users_email_partial_key")
    admin.execute(
        "insert into auth.users (id, email, is_sso_user) values (%s, 'same@example.test', true), "
        "(%s, 'same@example.test', true)",
        [uuid.uuid4(), uuid.uuid4()],
    )


def test_a_phone_belongs_to_one_account(admin):
    admin.execute("insert into auth.users (id, phone) values (%s, '15550100')", [uuid.uuid4()])
    err = error_of(lambda: admin.execute("insert into auth.users (id, phone) values (%s, '15550100')", [uuid.uuid4()]))
    assert (err.sqlstate, err.diag.constraint_name) == ("23505", "users_phone_key")


def test_email_change_confirm_status_is_checked_as_on_supabase(admin):
    err = error_of(
        lambda: admin.execute("insert into auth.users (id, email_change_confirm_status) values (%s, 3)", [uuid.uuid4()])
    )
    assert (err.sqlstate, err.diag.constraint_name) == ("23514", "users_email_change_confirm_status_check")


def test_rls_is_enabled_on_auth_users_and_api_users_cannot_read_it(admin, alice, service):
    assert admin.execute("select relrowsecurity from pg_class where oid = 'auth.users'::regclass").fetchone() == (True,)
    assert error_of(lambda: alice.execute("select * from auth.users")).sqlstate == "42501"
    assert service.execute("select count(*) from auth.users")[0][0] >= 1  # bypasses RLS, as on Supabase


# -- a Basejump-style test-helper flow --------------------------------------------------------


@pytest.fixture
def helpers(admin):
    admin.execute(HELPERS.read_text().encode())
    return admin


def test_basejump_helper_flow_creates_users_acts_as_them_and_finds_rls_on(helpers, connect):
    ada = helpers.execute("select tests.create_supabase_user('ada', 'ada@test.example', '15550001')").fetchone()[0]
    ben = helpers.execute("select tests.create_supabase_user('ben')").fetchone()[0]
    assert ada.version == 4 and ada != ben
    assert helpers.execute("select tests.rls_enabled('public')").fetchone() == (True,)
    assert helpers.execute("select tests.rls_enabled('auth')").fetchone() == (True,)

    conn = connect()  # as the project owner, like Supabase's test runner; the helpers switch role
    with conn.transaction():
        conn.execute("select tests.authenticate_as('ada')")
        assert conn.execute("select auth.uid(), auth.email(), current_user").fetchone() == (
            ada,
            "ada@test.example",
            "authenticated",
        )
        result = conn.execute(
            "select public.finalize_onboarding('k1', %s::jsonb)",
            ['{"display_name": "Ada", "goal": "strength", "days_per_week": 3}'],
        ).fetchone()[0]
        assert result["replayed"] is False
        assert conn.execute("select count(*) from public.profiles").fetchone() == (1,)
    with conn.transaction():
        conn.execute("select tests.authenticate_as('ben')")
        assert conn.execute("select auth.uid()").fetchone() == (ben,)
        assert conn.execute("select count(*) from public.profiles").fetchone() == (0,)  # ada's row is hidden
        assert conn.execute("select count(*) from public.plans").fetchone() == (0,)
