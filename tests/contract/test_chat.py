"""start_conversation, post_message, record_assistant_message, get_chat_context."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.helpers import error_of
from tests.payloads import onboard


@pytest.fixture
def thread(alice):
    plan = onboard(alice, starts_on=dt.date.today().isoformat())
    return alice.rpc("start_conversation", title="Pacing", plan_id=plan["plan_id"])["conversation_id"]


def test_start_conversation_creates_a_thread(alice, admin):
    plan = onboard(alice)
    response = alice.rpc("start_conversation", title="  Pacing  ", plan_id=plan["plan_id"])
    assert set(response) == {"conversation_id"}
    assert admin.execute(
        "select user_id, plan_id::text, title from public.conversations where id = %s", [response["conversation_id"]]
    ).fetchone() == (alice.user_id, plan["plan_id"], "Pacing")


def test_start_conversation_without_arguments(alice):
    assert alice.rpc("start_conversation")["conversation_id"]


def test_start_conversation_on_another_users_plan_is_not_found(alice, bob):
    bobs = onboard(bob)
    assert error_of(lambda: alice.rpc("start_conversation", plan_id=bobs["plan_id"])).sqlstate == "PT404"


def test_post_message_is_idempotent_on_client_message_id(alice, admin, thread):
    client_id = str(uuid.uuid4())
    first = alice.rpc("post_message", conversation_id=thread, client_message_id=client_id, content="hello")
    again = alice.rpc("post_message", conversation_id=thread, client_message_id=client_id, content="hello")

    assert set(first) == {"message_id", "created_at", "replayed"} and first["replayed"] is False
    assert again == {**first, "replayed": True}
    assert admin.execute("select count(*) from public.messages").fetchone() == (1,)
    assert admin.execute("select last_message_at is not null from public.conversations").fetchone() == (True,)


def test_post_message_reusing_the_id_with_other_content_is_pt409(alice, admin, thread):
    client_id = str(uuid.uuid4())
    alice.rpc("post_message", conversation_id=thread, client_message_id=client_id, content="hello")
    err = error_of(
        lambda: alice.rpc("post_message", conversation_id=thread, client_message_id=client_id, content="bye")
    )
    assert err.sqlstate == "PT409"
    assert admin.execute("select count(*) from public.messages").fetchone() == (1,)


@pytest.mark.parametrize(
    ("content", "field"), [("", "content"), ("   ", "content"), ("x" * 8001, "content"), (None, "content")]
)
def test_post_message_content_is_validated(alice, admin, thread, content, field):
    err = error_of(
        lambda: alice.rpc("post_message", conversation_id=thread, client_message_id=str(uuid.uuid4()), content=content)
    )
    assert err.sqlstate == "22023" and err.diag.message_primary.startswith(f"{field}: ")
    assert admin.execute("select count(*) from public.messages").fetchone() == (0,)


def test_post_message_to_another_users_conversation_is_not_found(bob, thread):
    onboard(bob)
    err = error_of(
        lambda: bob.rpc("post_message", conversation_id=thread, client_message_id=str(uuid.uuid4()), content="hi")
    )
    assert err.sqlstate == "PT404"


def test_record_assistant_message_is_for_the_service_role_only(alice, service, thread):
    question = alice.rpc("post_message", conversation_id=thread, client_message_id=str(uuid.uuid4()), content="q")
    err = error_of(lambda: alice.rpc("record_assistant_message", conversation_id=thread, content="a"))
    assert err.sqlstate == "42501"

    reply = service.rpc(
        "record_assistant_message",
        conversation_id=thread,
        content="Keep it easy.",
        metadata={"model": "coach-1"},
        reply_to=question["message_id"],
    )
    again = service.rpc(
        "record_assistant_message",
        conversation_id=thread,
        content="Keep it easy.",
        metadata={"model": "coach-1"},
        reply_to=question["message_id"],
    )
    assert reply["replayed"] is False and again == {**reply, "replayed": True}
    other = error_of(
        lambda: service.rpc(
            "record_assistant_message", conversation_id=thread, content="Sprint!", reply_to=question["message_id"]
        )
    )
    assert other.sqlstate == "PT409"


def test_record_assistant_message_to_a_missing_conversation_is_not_found(service):
    err = error_of(lambda: service.rpc("record_assistant_message", conversation_id=str(uuid.uuid4()), content="a"))
    assert err.sqlstate == "PT404"


def test_get_chat_context_returns_profile_plan_week_and_last_messages_in_order(alice, service, thread):
    for i in range(5):
        alice.rpc("post_message", conversation_id=thread, client_message_id=str(uuid.uuid4()), content=f"m{i}")
    service.rpc("record_assistant_message", conversation_id=thread, content="answer")

    context = alice.rpc("get_chat_context", conversation_id=thread, message_limit=3)

    assert set(context) == {"profile", "active_plan", "upcoming_workouts", "messages"}
    assert context["profile"]["display_name"] == "Alice"
    assert context["active_plan"]["name"] == "Base building"
    assert [m["content"] for m in context["messages"]] == ["m3", "m4", "answer"]
    assert set(context["messages"][0]) == {"id", "role", "content", "created_at"}
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=1))).date()  # near Europe/Paris
    days = [dt.date.fromisoformat(w["scheduled_on"]) for w in context["upcoming_workouts"]]
    assert days == sorted(days) and len(days) == 3
    assert all(today - dt.timedelta(days=1) <= d <= today + dt.timedelta(days=7) for d in days)


def test_get_chat_context_limit_is_validated(alice, thread):
    for limit in (0, 101):
        err = error_of(lambda limit=limit: alice.rpc("get_chat_context", conversation_id=thread, message_limit=limit))
        assert err.sqlstate == "22023" and err.diag.message_primary.startswith("message_limit: ")


def test_get_chat_context_of_another_users_conversation_is_not_found(bob, thread):
    onboard(bob)
    assert error_of(lambda: bob.rpc("get_chat_context", conversation_id=thread)).sqlstate == "PT404"


def test_service_rpcs_check_the_caller_before_the_input(alice, client, thread):
    """A caller who sends bad input to a service-only RPC learns only that it is not theirs:
    the grant refuses a user outright, and the function's own check (the role claim), which
    runs before any validation, refuses a session whose claims are not the service role's."""
    for call in (
        lambda c: c.rpc("record_assistant_message", conversation_id=thread, content=""),
        lambda c: c.rpc("purge_idempotency_keys", older_than="-1 day"),
    ):
        assert error_of(lambda call=call: call(alice)).sqlstate == "42501"
        impostor = client(role="service_role", claims={"role": "authenticated", "sub": str(alice.user_id)})
        err = error_of(lambda call=call, impostor=impostor: call(impostor))
        assert err.sqlstate == "42501" and "service role" in err.diag.message_primary
