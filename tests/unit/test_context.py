"""The request context is PostgREST's: role and claims set transaction-locally, gone after."""

from __future__ import annotations

import psycopg
import pytest

from harness.context import request


def settings(conn):
    return conn.execute(
        "select current_user, auth.uid(), auth.role(),"
        " current_setting('request.jwt.claims', true), current_setting('request.jwt.claim.sub', true)"
    ).fetchone()


def test_claims_and_role_hold_inside_the_request(connect, make_user):
    user = make_user()
    conn = connect(user="authenticator")
    with request(conn, "authenticated", user) as tx:
        role, uid, claim_role, claims, sub = settings(tx)
    assert (role, uid, claim_role, sub) == ("authenticated", user, "authenticated", str(user))
    assert '"sub": "' + str(user) + '"' in claims


def test_nothing_outlives_the_transaction(connect, make_user):
    conn = connect(user="authenticator")
    with request(conn, "authenticated", make_user()):
        pass
    role, claims, sub = conn.execute(
        "select current_user, current_setting('request.jwt.claims', true),"
        " current_setting('request.jwt.claim.sub', true)"
    ).fetchone()
    assert role == "authenticator"
    assert claims in ("", None) and sub in ("", None)


def test_a_failed_request_rolls_back_its_context_too(connect, make_user):
    conn = connect(user="authenticator")
    with pytest.raises(psycopg.errors.DivisionByZero), request(conn, "authenticated", make_user()) as tx:
        tx.execute("select 1/0")
    assert conn.execute("select current_user, current_setting('request.jwt.claim.sub', true)").fetchone() in (
        ("authenticator", ""),
        ("authenticator", None),
    )


def test_authenticator_alone_has_no_table_access(connect):
    conn = connect(user="authenticator")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select * from public.profiles")


def test_request_needs_an_autocommit_connection(db_url):
    with psycopg.connect(db_url) as conn, pytest.raises(ValueError, match="autocommit"), request(conn):
        pass
