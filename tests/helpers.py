"""Small helpers several suites share."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from harness.access import exposed_tables
from harness.context import Client
from harness.contract.validate import ContractViolation, args_errors, check_response


def error_of(call: Callable[[], object]) -> psycopg.Error:
    """The database error a call raises (the test fails if it raises none)."""
    with pytest.raises(psycopg.Error) as err:
        call()
    return err.value


def snapshot(admin: psycopg.Connection) -> list[tuple]:
    """Row count and a digest of every exposed table: equal snapshots, nothing written."""
    return [
        admin.execute(
            f"select count(*), md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from {t} t"
        ).fetchone()
        for t in exposed_tables(admin)
    ]


def as_received(body: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    """A JSON body as the function sees it: PostgREST's ``json_to_record`` passes any
    non-string JSON value sent for a ``text`` argument on as its JSON text (``5`` -> ``'5'``)."""
    return {
        k: json.dumps(v) if types.get(k) == "text" and v is not None and not isinstance(v, str) else v
        for k, v in body.items()
    }


class ContractClient(Client):
    """A client held to the RPC contracts (``harness/contract/<rpc>.json``): every answer must
    conform to ``$defs/returns``, and a body the RPC accepted must conform to ``$defs/args``
    (as the function received it). The suites that use the ``client`` fixture check the SQL
    against the contract on every call they make, without saying so."""

    def rpc(self, function: str, **args: Any) -> Any:
        answer = check_response(function, super().rpc(function, **args))
        problems = args_errors(function, as_received(args, self._types[function]))
        if problems:
            raise ContractViolation(f"{function} accepted a body its contract rejects: {'; '.join(problems[:3])}")
        return answer


#: Tables and functions of ``public`` that ``anon`` can read, write or call: nothing, by design,
#: even where Supabase's default privileges granted them on creation.
ANON_GRANTS = """
select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
    and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('anon', c.oid, 'insert'))
union all
select p.proname from pg_proc p where p.pronamespace = 'public'::regnamespace
    and has_function_privilege('anon', p.oid, 'execute')
"""


def anon_grants(conn: psycopg.Connection) -> list[tuple[str]]:
    return conn.execute(ANON_GRANTS).fetchall()
