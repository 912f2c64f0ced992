"""The typed client contract: one JSON Schema per RPC, for its arguments and its response.

``harness/contract/<rpc>.json`` holds ``$defs/args`` (the JSON body a PostgREST client sends:
closed key sets, types, lengths, ranges, enums, required keys) and ``$defs/returns`` (the
jsonb the function answers); ``common.json`` holds what several RPCs share (ids, dates, the
enum types, every table's row). These files are the one place the contract is written: the
TypeScript and Python types (`harness.typegen`) are generated from them, and the tests check
the SQL against them (`harness.contract.validate`).

Loading needs only the standard library; validation needs ``jsonschema`` (the test extra).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

#: The base of every contract file's ``$id``; ``.invalid`` is never resolved over a network.
BASE_URI = "https://coachdb.invalid/contract/"
COMMON = "common"


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed contract file ``<name>.json`` (``common`` or an RPC's name)."""
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def rpc_names() -> tuple[str, ...]:
    """Every RPC the contract describes, sorted."""
    names = (p.name.removesuffix(".json") for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))
    return tuple(sorted(n for n in names if n != COMMON))


def args_schema(rpc: str) -> dict[str, Any]:
    """The schema of the RPC's JSON body (an object: argument name -> value)."""
    return load(rpc)["$defs"]["args"]


def returns_schema(rpc: str) -> dict[str, Any]:
    """The schema of what the RPC answers."""
    return load(rpc)["$defs"]["returns"]


def roles(rpc: str) -> list[str]:
    """The API roles the RPC is meant for (``x-roles``)."""
    return list(load(rpc).get("x-roles", []))


__all__ = ["BASE_URI", "COMMON", "args_schema", "load", "returns_schema", "roles", "rpc_names"]
