"""Act as a PostgREST request: one transaction, ``role`` and JWT claims set locally.

PostgREST starts every request's transaction with (v10+)::

    select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), ...

and older versions also set one ``request.jwt.claim.<name>`` per claim. ``request()`` does
both, with ``is_local = true`` only, so nothing outlives the transaction: the same
connection can serve the next user, as behind a transaction-mode pooler. Tests, the seed
and the CLI all go through here, so they exercise the path production requests take.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

API_ROLES = ("anon", "authenticated", "service_role")


def claims_for(user_id: uuid.UUID | str | None, role: str = "authenticated") -> dict[str, Any]:
    """The claims Supabase Auth puts in a JWT, reduced to what the SQL reads."""
    claims: dict[str, Any] = {"role": role}
    if user_id is not None:
        claims["sub"] = str(user_id)
        claims["aud"] = "authenticated"
    return claims


def request_context_query(
    role: sql.Composable, claims: sql.Composable, sub: sql.Composable, claim_role: sql.Composable
) -> sql.Composed:
    """PostgREST's request-context statement, each value an SQL expression: parameters here,
    columns of the calls table in the bench's pgbench scripts."""
    return sql.SQL(
        "select set_config('role', {}, true),"
        " set_config('request.jwt.claims', {}, true),"
        " set_config('request.jwt.claim.sub', {}, true),"
        " set_config('request.jwt.claim.role', {}, true)"
    ).format(role, claims, sub, claim_role)


def set_request_context(conn: psycopg.Connection, role: str, claims: Mapping[str, Any]) -> None:
    """Inside an open transaction: switch role and publish the claims, transaction-locally."""
    if role not in API_ROLES:
        raise ValueError(f"role must be one of {API_ROLES}, not {role!r}")
    conn.execute(
        request_context_query(*[sql.Placeholder()] * 4),
        [role, json.dumps(dict(claims)), str(claims.get("sub", "")), str(claims.get("role", ""))],
    )


@contextmanager
def request(
    conn: psycopg.Connection,
    role: str = "authenticated",
    user_id: uuid.UUID | str | None = None,
    claims: Mapping[str, Any] | None = None,
) -> Iterator[psycopg.Connection]:
    """One request: a transaction on ``conn`` (autocommit) acting as ``role``/``user_id``.
    Commits when the block ends, rolls back on an exception, like PostgREST."""
    if not conn.autocommit:
        raise ValueError("request() needs an autocommit connection: each request is its own transaction")
    with conn.transaction():
        set_request_context(conn, role, claims if claims is not None else claims_for(user_id, role))
        yield conn


ARGUMENT_TYPES = """
select a.name, pg_catalog.format_type(a.type, null)
from pg_catalog.pg_proc as p,
    unnest(p.proargnames, p.proargtypes::oid[]) as a (name, type)
where p.oid = %s::regproc
"""


def argument_types(conn: psycopg.Connection, function: str) -> dict[str, str]:
    """The function's argument names and SQL types, as PostgREST reads them from pg_proc."""
    rows = conn.execute(ARGUMENT_TYPES, [f"public.{function}"]).fetchall()
    return dict(rows)


#: Where PostgREST's call reads the JSON body: its one parameter.
BODY_PARAMETER = sql.SQL("%s::json")


def rpc_query(
    function: str, args: Mapping[str, Any], types: Mapping[str, str], body: sql.Composable = BODY_PARAMETER
) -> tuple[sql.Composed, list[Any]]:
    """PostgREST's call: the JSON body becomes a record typed by the function's signature,
    and only the keys the client sent are passed, by name (the rest take their defaults)::

        select public.fn(a => _.a, ...) from json_to_record($1::json) as _(a text, ...)

    ``body`` replaces the parameter by an expression (the bench's pgbench scripts read each
    call's body from a table); the parameters returned are then of no use."""
    unknown = [k for k in args if k not in types]
    if unknown:
        raise TypeError(f"public.{function} has no argument named {unknown[0]!r}")
    if not args:  # PostgREST calls a function without arguments plainly
        return sql.SQL("select public.{}()").format(sql.Identifier(function)), []
    named = sql.SQL(", ").join(sql.SQL("{0} => _.{0}").format(sql.Identifier(k)) for k in args)
    record = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(k), sql.SQL(types[k])) for k in args)
    query = sql.SQL("select public.{}({}) from json_to_record({}) as _({})").format(
        sql.Identifier(function), named, body, record
    )
    return query, [json.dumps(dict(args), default=str)]


class Client:
    """What an app's Supabase client does, over one connection: RPCs and table reads, each
    in its own request. ``user_id=None`` with role ``anon`` is a signed-out client."""

    def __init__(
        self,
        conn: psycopg.Connection,
        user_id: uuid.UUID | str | None = None,
        role: str = "authenticated",
        claims: Mapping[str, Any] | None = None,
    ) -> None:
        self.conn = conn
        self.user_id = user_id
        self.role = role
        self.claims = claims
        self._types: dict[str, dict[str, str]] = {}

    def _request(self):
        return request(self.conn, self.role, self.user_id, self.claims)

    def rpc(self, function: str, **args: Any) -> Any:
        """Call ``public.<function>`` with a JSON body, as ``supabase.rpc(function, args)``."""
        if function not in self._types:
            self._types[function] = argument_types(self.conn, function)
        query, params = rpc_query(function, args, self._types[function])
        with self._request() as conn:
            return conn.execute(query, params).fetchone()[0]

    def select(self, table: str, where: str = "true", params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of ``public.<table>`` visible to this client (RLS applies)."""
        query = sql.SQL("select to_jsonb(t) from public.{} as t where " + where).format(sql.Identifier(table))
        with self._request() as conn:
            return [row[0] for row in conn.execute(query, params or []).fetchall()]

    def execute(self, query: str | sql.Composable, params: list[Any] | None = None) -> list[tuple]:
        """Any statement in this client's request context; returns its rows (if any)."""
        with self._request() as conn:
            cur = conn.execute(query, params or [])
            return cur.fetchall() if cur.description else []
