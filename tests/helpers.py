"""Small helpers several suites share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from harness.access import exposed_tables
from harness.context import Client
from harness.contract.validate import check_response


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


class ContractClient(Client):
    """A client whose every RPC answer must conform to the RPC's contract
    (``harness/contract/<rpc>.json``, ``$defs/returns``): the suites that use the ``client``
    fixture check the SQL against the contract on every call they make, without saying so."""

    def rpc(self, function: str, **args: Any) -> Any:
        return check_response(function, super().rpc(function, **args))
