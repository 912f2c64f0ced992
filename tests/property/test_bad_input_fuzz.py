"""The bad-input fuzzer: hostile JSON for every RPC. A call either succeeds or fails with
22023 / PT404 / PT409 / 42501 (never an internal error, a raw constraint violation or a
cast error from inside a function), and a rejected call leaves the database unchanged.

It also asks the contract (``harness/contract/<rpc>.json``) about every body, and the two
must agree: a body the schema rejects is rejected by the RPC with 22023, naming a field the
schema flags; a body the schema accepts is not rejected with 22023. The one exception is
the rule JSON Schema cannot state and the contract lists under ``x-notes`` (a plan's
workouts fall inside its weeks, one a day): those 22023s are counted apart.

What the function receives is what the schema is asked about: PostgREST turns any JSON value
sent for a ``text`` argument into text (a number ``5`` arrives as ``'5'``, an object as its
JSON text), so such values are compared in that form.

NUL characters are the one input PostgreSQL itself refuses before any function runs: the
JSON body cannot become text or jsonb (22P05, HTTP 400 through PostgREST). The fuzzer sends
them too and checks exactly that: 22P05, raised by the argument conversion, nothing written;
those bodies are outside the schema agreement (counted as ``nul``).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter

import psycopg
import pytest
from hypothesis import given, settings

from harness.context import argument_types
from harness.contract.validate import flagged_fields, iter_args_errors
from tests.helpers import as_received, snapshot
from tests.payloads import first_workout, onboard
from tests.strategies import NUL, rpc_arguments

ALLOWED = {"22023", "PT404", "PT409", "42501"}
SERVICE_RPCS = {"record_assistant_message", "purge_idempotency_keys"}
OUTCOMES: Counter[str] = Counter()
AGREEMENT: Counter[str] = Counter()

#: The 22023s of finalize_onboarding's cross-field rule (x-notes in its contract).
CROSS_FIELD = re.compile(r"^plan\.workouts(\[\d+\]\.scheduled_on)?$")
CROSS_FIELD_PROBLEMS = ("must fall inside the plan", "already has a workout", "at most one workout a day")


def has_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


@pytest.fixture
def world(alice, bob):
    """Ids the fuzzer can aim at: alice's own rows and bob's."""
    ids: dict[str, list[str]] = {"plans": [], "workouts": [], "conversations": [], "messages": []}
    for user in (alice, bob):
        plan = onboard(user)
        conversation = user.rpc("start_conversation", plan_id=plan["plan_id"])["conversation_id"]
        message = user.rpc(
            "post_message", conversation_id=conversation, client_message_id=str(uuid.uuid4()), content="hi"
        )
        ids["plans"].append(plan["plan_id"])
        ids["workouts"].append(first_workout(user, plan["plan_id"]))
        ids["conversations"].append(conversation)
        ids["messages"].append(message["message_id"])
    return ids


def test_every_rpc_rejects_bad_input_cleanly_and_agrees_with_its_contract(world, alice, service, admin):
    timezones = {name for (name,) in admin.execute("select name from app_private.known_timezones").fetchall()}
    types: dict[str, dict[str, str]] = {}

    @settings(database=None)
    @given(call=rpc_arguments(world))
    def check(call):
        name, body = call
        caller = service if name in SERVICE_RPCS else alice
        if name not in types:
            types[name] = argument_types(admin, name)
        errors = list(iter_args_errors(name, as_received(body, types[name]), timezones))
        before = snapshot(admin)
        failure: psycopg.Error | None = None
        try:
            caller.rpc(name, **body)
        except psycopg.Error as exc:
            failure = exc
            state = exc.sqlstate
            OUTCOMES[state] += 1
            if has_nul(body):
                assert state in ALLOWED | {"22P05"}, (name, body, exc)
                if state == "22P05":
                    assert "app_private" not in (exc.diag.context or ""), "NUL reached a function"
            else:
                assert state in ALLOWED, (name, body, state, str(exc))
            assert snapshot(admin) == before, f"rejected {name} wrote something"
        else:
            OUTCOMES["ok"] += 1

        if has_nul(body):
            AGREEMENT["nul"] += 1
            return
        state = failure.sqlstate if failure else "ok"
        if errors:
            assert state == "22023", f"the contract rejects {name} {body!r} ({errors[0].message[:200]}) but it {state}"
            field = failure.diag.column_name
            flagged = flagged_fields(errors)
            assert field in flagged, f"{name}: the SQL names {field!r}, the contract flags {sorted(flagged)}"
            AGREEMENT["schema rejects, RPC 22023 on a flagged field"] += 1
        elif state == "22023":
            field, message = failure.diag.column_name or "", str(failure)
            cross_field = CROSS_FIELD.match(field) and any(p in message for p in CROSS_FIELD_PROBLEMS)
            assert cross_field, f"the contract accepts {name} {body!r} but the RPC answers 22023: {message}"
            AGREEMENT["schema accepts, RPC 22023 by the cross-field rule (x-notes)"] += 1
        else:
            AGREEMENT[f"schema accepts, RPC {'succeeds' if state == 'ok' else 'answers ' + state}"] += 1

    OUTCOMES.clear()
    AGREEMENT.clear()
    check()
    total = sum(OUTCOMES.values())
    print(f"\nfuzzer: {total} calls, outcomes {dict(OUTCOMES)}")
    print("contract agreement: " + ", ".join(f"{k}: {v}" for k, v in sorted(AGREEMENT.items())))
    assert total >= settings().max_examples * 0.9, "hypothesis ran fewer examples than the profile asks"
    assert OUTCOMES["22023"] > 0 and OUTCOMES["ok"] > 0
    accepted = sum(v for k, v in AGREEMENT.items() if k.startswith("schema accepts"))
    assert AGREEMENT["schema rejects, RPC 22023 on a flagged field"] > 0 and accepted > 0
