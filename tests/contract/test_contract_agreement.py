"""The contract (``harness/contract/``) and the SQL agree on what can be checked by reading
the catalog: every exposed function has a contract naming its arguments, which are required,
and who may call it; the enums are the database's; each table's row is its columns. The
rules JSON Schema needs help with (jsonb size, server time zones) are checked against
PostgreSQL itself, and the boundaries of each rule are called through the RPCs."""

from __future__ import annotations

import json

import psycopg
import pytest
from hypothesis import given, settings

from harness import contract
from harness.contract.validate import ContractViolation, args_errors, check_response, jsonb_text
from harness.typegen.catalog import read_catalog
from tests.helpers import error_of
from tests.payloads import onboard, plan, profile
from tests.strategies import json_values

API_ROLES = ("anon", "authenticated", "service_role")


def test_every_exposed_function_has_a_contract_naming_its_arguments(admin):
    catalog = read_catalog(admin)
    assert set(catalog.functions) == set(contract.rpc_names())
    for name, arguments in catalog.functions.items():
        schema = contract.args_schema(name)
        assert list(schema["properties"]) == [a.name for a in arguments], name
        assert schema["required"] == [a.name for a in arguments if not a.has_default], name
        assert schema["additionalProperties"] is False, name


def test_contract_roles_are_the_execute_grants(admin):
    for name in contract.rpc_names():
        granted = [
            role
            for role in API_ROLES
            if admin.execute(
                "select has_function_privilege(%s, %s::regproc, 'execute')", [role, f"public.{name}"]
            ).fetchone()[0]
        ]
        assert granted == contract.roles(name), name


def test_contract_enums_are_the_database_enums(admin):
    defs = contract.load(contract.COMMON)["$defs"]
    for name, labels in read_catalog(admin).enums.items():
        assert defs[name]["enum"] == labels, name


def test_contract_rows_are_the_table_columns(admin):
    defs = contract.load(contract.COMMON)["$defs"]
    rows = {d["x-table"]: d for d in defs.values() if "x-table" in d}
    catalog = read_catalog(admin)
    assert set(rows) == {t.name for t in catalog.tables}
    for table in catalog.tables:
        properties = rows[table.name]["properties"]
        assert sorted(properties) == sorted(c.name for c in table.columns), table.name
        for column in table.columns:
            nullable = any(s.get("type") == "null" for s in properties[column.name].get("anyOf", []))
            assert nullable == column.nullable, f"{table.name}.{column.name}"


@settings(max_examples=200, database=None)
@given(value=json_values.filter(lambda v: "\\u0000" not in json.dumps(v)))
def test_jsonb_text_is_what_postgres_prints(admin, value):
    """x-maxJsonbBytes measures what app_private.json_object measures: the jsonb's text."""
    printed = admin.execute("select (%s::jsonb)::text", [json.dumps(value)]).fetchone()[0]
    assert jsonb_text(value) == printed


def test_time_zone_format_is_the_servers_list(admin):
    known = {name for (name,) in admin.execute("select name from app_private.known_timezones").fetchall()}
    body = {"idempotency_key": "k", "profile": profile(timezone=" Europe/Paris ")}
    assert args_errors("finalize_onboarding", body, known) == []
    assert args_errors("finalize_onboarding", {**body, "profile": profile(timezone="Mars/Olympus")}, known)


def _metadata_of_bytes(size: int) -> dict[str, str]:
    """An object whose jsonb text is exactly ``size`` bytes: {"m": "xxx..."}."""
    return {"m": "x" * (size - len('{"m": ""}'))}


BOUNDARIES = [
    ("display_name of 80 characters inside spaces", {"display_name": "  " + "a" * 80 + " "}, True),
    ("display_name of 81 characters", {"display_name": "a" * 81}, False),
    ("display_name of spaces only", {"display_name": "   "}, False),
    ("days_per_week written 3.0", {"days_per_week": 3.0}, True),
    ("days_per_week 3.5", {"days_per_week": 3.5}, False),
    ("days_per_week true", {"days_per_week": True}, False),
    ("experience null (absent)", {"experience": None}, True),
    ("metadata of exactly 16384 bytes as jsonb", {"metadata": _metadata_of_bytes(16384)}, True),
    ("metadata of 16385 bytes as jsonb", {"metadata": _metadata_of_bytes(16385)}, False),
    ("metadata an array", {"metadata": []}, False),
    ("goal outside the closed set", {"goal": "flying"}, False),
]


@pytest.mark.parametrize(("case", "change", "valid"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_schema_and_sql_agree_at_the_boundaries(alice, admin, case, change, valid):
    known = {name for (name,) in admin.execute("select name from app_private.known_timezones").fetchall()}
    body = {"idempotency_key": "k", "profile": profile(**change), "plan": plan()}
    assert (args_errors("finalize_onboarding", body, known) == []) is valid, case
    if valid:
        alice.rpc("finalize_onboarding", **body)
    else:
        assert error_of(lambda: alice.rpc("finalize_onboarding", **body)).sqlstate == "22023", case


def test_the_cross_field_rule_is_the_sqls_alone(alice):
    """The limit the contract states (x-notes): a workout outside the plan's weeks is valid
    JSON Schema, and only the SQL refuses it, naming the field."""
    body = {
        "idempotency_key": "k",
        "profile": profile(),
        "plan": plan(starts_on="2030-01-07", weeks=1, workouts=[{"scheduled_on": "2030-02-01", "kind": "run"}]),
    }
    assert args_errors("finalize_onboarding", body) == []
    assert "x-notes" in contract.load("finalize_onboarding")
    err = error_of(lambda: alice.rpc("finalize_onboarding", **body))
    assert (err.sqlstate, err.diag.column_name) == ("22023", "plan.workouts[0].scheduled_on")


def test_an_answer_outside_the_contract_fails_the_call(alice):
    answer = onboard(alice)
    check_response("finalize_onboarding", answer)
    with pytest.raises(ContractViolation, match="plan_id"):
        check_response("finalize_onboarding", {k: v for k, v in answer.items() if k != "plan_id"})
    with pytest.raises(ContractViolation, match="workout_count"):
        check_response("finalize_onboarding", {**answer, "workout_count": "4"})


def test_every_rpc_answer_conforms_including_nulls_and_replays(alice, service):
    """The answers with the most nulls: before onboarding (no profile, no plan) and replays."""
    conversation = alice.rpc("start_conversation")["conversation_id"]
    context = alice.rpc("get_chat_context", conversation_id=conversation)
    assert context["profile"] is None and context["active_plan"] is None
    first = onboard(alice)
    assert onboard(alice) == {**first, "replayed": True}
    alice.rpc("export_my_data")
    assert isinstance(service.rpc("purge_idempotency_keys", older_than="0"), int)


def test_a_text_argument_sent_as_another_json_type_arrives_as_its_text(alice):
    """Why the fuzzer compares text arguments as text: PostgREST's json_to_record passes a
    JSON number for a text argument on as its digits."""
    conversation = alice.rpc("start_conversation", title=12345)["conversation_id"]
    rows = alice.execute("select title from public.conversations where id = %s", [conversation])
    assert rows == [("12345",)]
    assert isinstance(error_of(lambda: alice.rpc("start_conversation", title="   ")), psycopg.Error)


WHITESPACE = [" ", "\t", "\n", "\r", "\f", "\v", "\u00a0", "\u2003", "\u3000", "\ufeff"]


@pytest.mark.parametrize("char", WHITESPACE, ids=[f"U+{ord(c):04X}" for c in WHITESPACE])
def test_blank_text_means_the_same_to_schema_and_sql(alice, char):
    """Which characters make a text "blank" (and are trimmed) is one rule: when the SQL's
    definition changes, the contract's patterns must follow, and this says which character
    differs."""
    blank = char * 3
    for rpc, body in (
        ("start_conversation", {"title": blank}),
        ("start_conversation", {"title": f"{blank}x{blank}"}),
        ("finalize_onboarding", {"idempotency_key": "k", "profile": profile(display_name=blank)}),
    ):
        schema_accepts = args_errors(rpc, body) == []
        try:
            alice.rpc(rpc, **body)
            sql_accepts = True
        except psycopg.Error as exc:
            assert exc.sqlstate == "22023", exc
            sql_accepts = False
        assert schema_accepts == sql_accepts, f"{rpc} {body!r}: schema {schema_accepts}, SQL {sql_accepts}"
