"""The bad-input fuzzer: hostile JSON for every RPC. A call either succeeds or fails with
22023 / PT404 / PT409 / 42501 (never an internal error, a raw constraint violation or a
cast error from inside a function), and a rejected call leaves the database unchanged.

NUL characters are the one input PostgreSQL itself refuses before any function runs: the
JSON body cannot become text or jsonb (22P05, HTTP 400 through PostgREST). The fuzzer sends
them too and checks exactly that: 22P05, raised by the argument conversion, nothing written.
"""

from __future__ import annotations

import uuid
from collections import Counter

import psycopg
import pytest
from hypothesis import given, settings

from tests.helpers import snapshot
from tests.payloads import first_workout, onboard
from tests.strategies import NUL, rpc_arguments

ALLOWED = {"22023", "PT404", "PT409", "42501"}
SERVICE_RPCS = {"record_assistant_message", "purge_idempotency_keys"}
OUTCOMES: Counter[str] = Counter()


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


def test_every_rpc_rejects_bad_input_cleanly(world, alice, service, admin):
    @settings(database=None)
    @given(call=rpc_arguments(world))
    def check(call):
        name, body = call
        caller = service if name in SERVICE_RPCS else alice
        before = snapshot(admin)
        try:
            caller.rpc(name, **body)
        except psycopg.Error as exc:
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

    OUTCOMES.clear()
    check()
    total = sum(OUTCOMES.values())
    print(f"\nfuzzer: {total} calls, outcomes {dict(OUTCOMES)}")
    assert total >= settings().max_examples * 0.9, "hypothesis ran fewer examples than the profile asks"
    assert OUTCOMES["22023"] > 0 and OUTCOMES["ok"] > 0
