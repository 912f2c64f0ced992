"""Validate RPC bodies and answers against the contract with ``jsonschema``.

Two rules of the SQL need more than standard JSON Schema, and each has one definition here:

- ``format: time-zone``: a name the server knows (``app_private.known_timezones``, copied
  from ``pg_timezone_names``), once leading and trailing spaces are trimmed. The list belongs
  to the server, so it is asserted only when the caller passes it (``timezones=``).
- ``x-maxJsonbBytes: N``: the value's text *as jsonb prints it* is at most N bytes, which is
  what ``app_private.json_object`` measures (``octet_length(value::text)``). ``jsonb_text``
  reproduces that printing: keys ordered by length then bytes, ``", "`` and ``": "`` as
  separators, numbers as ``numeric`` prints them, strings escaped as PostgreSQL escapes them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from referencing import Registry, Resource

from harness import contract

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in text) + '"'


def _number(value: int | float) -> str:
    """A JSON number as ``numeric`` prints it: every digit, no exponent, the scale of the
    literal sent (Python's ``json`` writes a float as its shortest ``repr``), no negative zero."""
    number = Decimal(json.dumps(value))
    return format(abs(number) if number.is_zero() else number, "f")


def jsonb_text(value: Any) -> str:
    """``value::jsonb::text`` as PostgreSQL writes it, for values Python's ``json`` can send."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{_string(k)}: {jsonb_text(value[k])}" for k in keys) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _max_jsonb_bytes(
    validator: Validator, limit: int, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "object") or validator.is_type(instance, "array"):
        size = len(jsonb_text(instance).encode())
        if size > limit:
            yield ValidationError(f"is {size} bytes of JSON, more than {limit}")


ContractValidator = extend(Draft202012Validator, {"x-maxJsonbBytes": _max_jsonb_bytes})


@cache
def registry() -> Registry:
    """Every contract file, by its ``$id``: ``$ref``s between them resolve here, never online."""
    files = [contract.COMMON, *contract.rpc_names()]
    return Registry().with_resources((contract.load(n)["$id"], Resource.from_contents(contract.load(n))) for n in files)


def format_checker(timezones: Collection[str] | None = None) -> FormatChecker:
    """Standard formats (uuid, date), plus ``time-zone`` against ``timezones`` when given."""
    checker = FormatChecker(["uuid", "date"])
    if timezones is not None:
        known = frozenset(timezones)
        checker.checks("time-zone")(lambda value: not isinstance(value, str) or value.strip() in known)
    return checker


@cache
def _validator(rpc: str, part: str, timezones: frozenset[str] | None) -> Validator:
    root = contract.load(rpc)
    schema = {"$schema": root["$schema"], "$ref": f"{root['$id']}#/$defs/{part}"}
    return ContractValidator(schema, registry=registry(), format_checker=format_checker(timezones))


def iter_args_errors(
    rpc: str, args: Mapping[str, Any], timezones: Collection[str] | None = None
) -> Iterator[ValidationError]:
    """The contract's findings on a JSON body for ``rpc``, as ``jsonschema`` errors."""
    known = frozenset(timezones) if timezones is not None else None
    return _validator(rpc, "args", known).iter_errors(dict(args))


def args_errors(rpc: str, args: Mapping[str, Any], timezones: Collection[str] | None = None) -> list[str]:
    """What the contract finds wrong with a JSON body for ``rpc`` (empty: accepted)."""
    return [f"{e.json_path}: {e.message[:200]}" for e in iter_args_errors(rpc, args, timezones)]


def flagged_fields(errors: Iterable[ValidationError]) -> set[str]:
    """The fields the errors point at, written as the SQL names them in its 22023 errors
    (``profile.goal``, ``plan.workouts[0].kind``): the value's own path, the missing key of a
    ``required``, the extra key of a closed object, and the same inside ``anyOf`` branches."""
    fields: set[str] = set()
    for error in errors:
        path = field_name(error.absolute_path)
        fields.add(path)
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        if error.validator == "required":
            fields.update(_join(path, k) for k in error.validator_value if k not in instance)
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            fields.update(_join(path, k) for k in instance if k not in known)
        fields |= flagged_fields(error.context or [])
    return fields


def field_name(path: Iterable[str | int]) -> str:
    """A JSON path as the SQL's error messages write it: ``plan.workouts[0].kind``."""
    name = ""
    for part in path:
        name = f"{name}[{part}]" if isinstance(part, int) else _join(name, part)
    return name


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def response_errors(rpc: str, response: Any) -> list[str]:
    """What the contract finds wrong with an answer of ``rpc`` (empty: it conforms)."""
    return [f"{e.json_path}: {e.message[:200]}" for e in _validator(rpc, "returns", None).iter_errors(response)]


class ContractViolation(AssertionError):
    """An RPC answered something its contract does not allow."""


def check_response(rpc: str, response: Any) -> Any:
    """``response`` itself if it conforms to the contract; ``ContractViolation`` otherwise."""
    problems = response_errors(rpc, response)
    if problems:
        raise ContractViolation(f"{rpc} answered outside its contract: {'; '.join(problems[:5])}")
    return response
